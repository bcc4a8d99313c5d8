package mirror

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drover-dr/drover/internal/plural"
)

// Errors of the guards against deleting a replica by mistake; only
// Options.AllowMassDelete lets them through.
var (
	// ErrSourceReplaced: a source folder is not the one the last mirror
	// read (its marker differs or is gone): another folder, or a fresh
	// one, was put in its place.
	ErrSourceReplaced = errors.New("the source folder was replaced")
	// ErrMassDelete: a mirror would delete more of a replica at once than
	// Options.MaxDelete allows.
	ErrMassDelete = errors.New("too much of the replica would be deleted")
)

// markerName is the file Drover keeps in each source folder it mirrored:
// a random identity that a folder put in its place (an empty mount
// point, a restored or recreated folder) lacks. Walks leave it out on
// both sides, so it is never mirrored, and never deleted from a target
// that is also the source of another set.
const markerName = ".drover-source"

// DeleteLimit caps the entries one mirror deletes of a pair's replica: a
// count, or a share of the entries the replica holds. The zero value
// sets no cap.
type DeleteLimit struct {
	Count int
	// Percent applies when Count is 0.
	Percent float64
}

// ParseDeleteLimit reads "50%" (a share of the replica's entries) or
// "1000" (entries).
func ParseDeleteLimit(s string) (DeleteLimit, error) {
	t := strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v <= 0 || v > 100 {
			return DeleteLimit{}, fmt.Errorf("the limit %q is not a share from 0%% (exclusive) to 100%%, like \"50%%\"", s)
		}
		return DeleteLimit{Percent: v}, nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 {
		return DeleteLimit{}, fmt.Errorf("the limit %q is neither a count of entries (1 or more) nor a share like \"50%%\"", s)
	}
	return DeleteLimit{Count: n}, nil
}

func (l DeleteLimit) String() string {
	if l.Count > 0 {
		return strconv.Itoa(l.Count)
	}
	return strconv.FormatFloat(l.Percent, 'f', -1, 64) + "%"
}

// exceeded says whether deleting n of held entries goes beyond l.
func (l DeleteLimit) exceeded(n, held int) bool {
	switch {
	case n == 0:
		return false
	case l.Count > 0:
		return n > l.Count
	case l.Percent > 0:
		return float64(n)*100 > l.Percent*float64(held)
	}
	return false
}

// checkDeletions refuses a whole-pair plan that would delete more of the
// replica than the limit allows: a source that lost most of its content
// at once was more likely replaced or half-mounted than cleaned up.
func (m *Mirror) checkDeletions(p *pair, dst *Tree, changes []Change) error {
	if m.opts.AllowMassDelete || m.opts.MaxDelete == (DeleteLimit{}) {
		return nil
	}
	deleted := 0
	for i := range changes {
		if c := &changes[i]; c.Op == OpDelete && c.Kind != KindTemp && c.Kind != KindSidecar {
			deleted++
		}
	}
	held := 0
	dst.each(func(_ string, e *Entry) {
		if k := e.Kind(); k != KindTemp && k != KindSidecar {
			held++
		}
	})
	if !m.opts.MaxDelete.exceeded(deleted, held) {
		return nil
	}
	return fmt.Errorf("%w: mirroring source %s would delete %d of the %s of %s, more than max_delete (%s) allows; "+
		"nothing was deleted. If the source really lost them, let it through once with --allow-mass-delete (or allow_mass_delete = true)",
		ErrMassDelete, p.Source, deleted, plural.Count(held, "entry"), p.Target, m.opts.MaxDelete)
}

// readMarker reads the identity kept in the source folder; "" when it
// has none.
func (p *pair) readMarker(ctx context.Context) (string, error) {
	b, err := p.src.ReadFile(ctx, "/"+markerName)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("source %s: reading its marker %s: %w", p.Source, markerName, err)
	}
	return string(bytes.TrimSpace(b)), nil
}

// checkIdentity refuses a source whose marker is not the one recorded at
// the last mirror.
func (p *pair) checkIdentity(ctx context.Context, want string, allow bool) error {
	if want == "" || allow {
		return nil
	}
	got, err := p.readMarker(ctx)
	if err != nil {
		return err
	}
	if got == want {
		return nil
	}
	why := "holds another marker"
	if got == "" {
		why = "lacks the marker " + markerName + " the last mirror left there"
	}
	return fmt.Errorf("%w: source %s %s: it is another folder than the one mirrored last (a fresh, restored or unmounted folder); "+
		"nothing was changed. If it is meant to replace the old source, let it through once with --allow-mass-delete (or allow_mass_delete = true)",
		ErrSourceReplaced, p.Source, why)
}

// MarkSources makes sure every source folder holds its marker, writing a
// new identity where there is none, and returns the identities by pair;
// "" for a source that cannot be written (read-only), which then has the
// deletion limit as its only guard. Callers record them and pass them
// back as Options.SourceIDs.
func (m *Mirror) MarkSources(ctx context.Context) ([]string, error) {
	ids := make([]string, len(m.pairs))
	for i, p := range m.pairs {
		id, err := p.readMarker(ctx)
		if err != nil {
			return nil, err
		}
		if !validID(id) {
			if id, err = p.writeMarker(ctx); err != nil {
				return nil, err
			}
		}
		ids[i] = id
	}
	return ids, nil
}

// validID says whether id is one writeMarker makes. Anything else in a
// marker (a damaged file, bytes that are not UTF-8, which the state
// cannot hold) is no identity: a source allowed through with one gets a
// new marker.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// writeMarker gives the source folder a new identity; "" when the folder
// cannot be written. The folder keeps its modification time: the replica
// has it already, and the marker is no change of the source's.
func (p *pair) writeMarker(ctx context.Context) (string, error) {
	fi, err := p.src.Lstat(ctx, "/")
	if err != nil {
		return "", fmt.Errorf("source %s: %w", p.Source, err)
	}
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	if err := p.src.WriteFile(ctx, "/"+markerName, strings.NewReader(id+"\n"), 0o644); err != nil {
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
			return "", nil
		}
		return "", fmt.Errorf("source %s: writing its marker %s: %w", p.Source, markerName, err)
	}
	if err := p.src.Chtimes(ctx, "/", time.Time{}, fi.ModTime()); err != nil {
		return "", fmt.Errorf("source %s: %w", p.Source, err)
	}
	return id, nil
}
