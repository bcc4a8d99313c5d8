package blocks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/drover-dr/drover/host"
)

// Target is a file or block device kept a copy of a source, with the
// places of its manifest and undo journal (on a file system of the same
// host; beside the target for a file).
type Target struct {
	Host     host.Host
	Path     string
	Manifest string
	Journal  string
	// Device is the stable name of a device target (see Identity.Device);
	// empty for a file.
	Device string
}

// Beside returns the target at path with its manifest and journal beside
// it: PATH.blocks and PATH.journal.
func Beside(h host.Host, path string) Target {
	return Target{Host: h, Path: path, Manifest: path + ".blocks", Journal: path + ".journal"}
}

// LoadManifest reads the target's manifest; nil when there is none.
func (t Target) LoadManifest(ctx context.Context) (*Manifest, error) {
	return t.readManifestFile(ctx, readManifest)
}

// readManifestFile opens the target's manifest and reads it with read;
// nil when there is none.
func (t Target) readManifestFile(ctx context.Context, read func(host.File) (*Manifest, error)) (*Manifest, error) {
	f, err := t.Host.OpenFile(ctx, t.Manifest, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := read(f)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", t.Manifest, err)
	}
	return m, nil
}

// readManifest reads a whole manifest file, its sums straight into place.
func readManifest(f host.File) (*Manifest, error) {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	head := make([]byte, min(size, sumsOffset))
	if _, err := f.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, err
	}
	if !bytes.HasPrefix(head, []byte(manifestMagic)) && !bytes.HasPrefix(head[min(slotSize, len(head)):], []byte(manifestMagic)) {
		// Another format: read it whole.
		b := make([]byte, size)
		if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
			return nil, err
		}
		return UnmarshalManifest(b)
	}
	h, err := decodeHeader(head)
	if err != nil {
		return nil, err
	}
	return h.withSums(f, size)
}

// loadHeader reads the header of the target's manifest, not its sums; nil
// when there is none.
func (t Target) loadHeader(ctx context.Context) (*Manifest, error) {
	return t.readManifestFile(ctx, func(f host.File) (*Manifest, error) {
		b := make([]byte, sumsOffset)
		n, err := f.ReadAt(b, 0)
		if err != nil && err != io.EOF {
			return nil, err
		}
		return unmarshalHeader(b[:n])
	})
}

// SaveManifest replaces the target's manifest atomically.
func (t Target) SaveManifest(ctx context.Context, m *Manifest) error {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	return t.Host.WriteFile(ctx, t.Manifest, bytes.NewReader(b), 0o600)
}

// updateManifest records m, a later generation of prior (read from the
// same manifest file, of the same shape), in place: the sums of the
// blocks in changed, synced, then m's header in the slot prior was not
// read from, synced. The old values of those sums must be in the synced
// undo journal already: until the header is written, prior stays the
// manifest, and rolling back restores its sums.
func (t Target) updateManifest(ctx context.Context, m, prior *Manifest, changed []blockRange) error {
	// Never through a symlink, as the journal (openJournal).
	f, err := t.Host.OpenFile(ctx, t.Manifest, os.O_RDWR|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, r := range changed {
		if _, err := f.WriteAt(sumBytes(m.Sums[r.first:r.end]), sumsOffset+16*r.first); err != nil {
			return err
		}
	}
	if len(changed) > 0 {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	slot := 1 - prior.slot
	head, err := encodeSlot(m, prior.seq+1)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(head, int64(slot*slotSize)); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	m.slot, m.seq = slot, prior.seq+1
	return f.Close()
}

// RemoveManifest forgets what the target holds (the target is untouched).
func (t Target) RemoveManifest(ctx context.Context) error {
	if err := t.Host.Remove(ctx, t.Journal); err != nil {
		return err
	}
	return t.Host.Remove(ctx, t.Manifest)
}

// identity reads the identity of the open target f.
func (t Target) identity(f host.File) (Identity, error) {
	fi, err := f.Stat()
	if err != nil {
		return Identity{}, err
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return Identity{}, err
	}
	id := FileIdentity(fi, size)
	if t.Device != "" {
		id.Device = t.Device
	}
	return id, nil
}

// Status is what a target holds, as far as its manifest and journal tell.
type Status struct {
	// Manifest is nil when the target holds no copy known to Drover.
	Manifest *Manifest
	// Trusted says the manifest belongs to this target as it is now.
	Trusted bool
	// Why explains an untrusted manifest, or one too damaged to read
	// (then Manifest is nil): either way the next copy is a full one,
	// which writes a new manifest.
	Why string
	// Interrupted says a copy was interrupted: the journal is still there
	// and Recover must run before the target is used.
	Interrupted bool
}

// Usable says whether the target holds a complete, verified generation
// that may be restored from or booted; otherwise it says why not and what
// to do.
func (s Status) Usable() error {
	switch {
	case s.Interrupted:
		return errors.New("the last copy to it was interrupted; apply again to roll it back to the last complete copy and finish the copy")
	case s.Why != "":
		return fmt.Errorf("%s; apply again to make a full copy, which writes a new manifest", s.Why)
	case s.Manifest == nil:
		return errors.New("it holds no complete copy yet; apply to make one")
	case s.Manifest.State == Partial:
		return errors.New("its first copy is not finished; apply again to finish it")
	case s.Manifest.State == Tainted:
		return fmt.Errorf("verify found it differs from the copied data (%s); make a full copy with `drover apply --replace ADDR`", s.Manifest.Note)
	}
	return nil
}

// Inspect reads the target's status without changing anything. The
// status's manifest is its header: Sums are not read.
func (t Target) Inspect(ctx context.Context) (Status, error) {
	return t.inspect(ctx, false)
}

// inspect reads the target's status, with the manifest's sums when
// withSums.
func (t Target) inspect(ctx context.Context, withSums bool) (Status, error) {
	var st Status
	open, err := journalOpen(ctx, t)
	if err != nil {
		return st, err
	}
	st.Interrupted = open
	load := t.loadHeader
	if withSums {
		load = t.LoadManifest
	}
	m, err := load(ctx)
	if errors.Is(err, ErrCorrupt) && !open {
		// Nothing vouches for the target's content any more; a full copy
		// makes it (and its manifest) whole again. With a journal open the
		// sums may be half rolled forward: Recover deals with that.
		st.Why = err.Error()
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.Manifest = m
	if m == nil {
		return st, nil
	}
	f, err := t.Host.OpenFile(ctx, t.Path, os.O_RDONLY, 0)
	if err != nil {
		return st, err
	}
	defer f.Close()
	id, err := t.identity(f)
	if err != nil {
		return st, err
	}
	// An interrupted copy changed the file; Recover restamps it.
	st.Why = m.Identity.mismatch(id, m.State != Partial && !st.Interrupted)
	st.Trusted = st.Why == ""
	return st, nil
}

// syncDir makes a file's creation or removal in dir durable.
func syncDir(ctx context.Context, h host.Host, dir string) error {
	d, err := h.OpenFile(ctx, filepath.Clean(dir), os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
