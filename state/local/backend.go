package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/drover-dr/drover/internal/atomicfile"

	"github.com/drover-dr/drover/state"
)

// DefaultPath is the state file's name in the working folder.
const DefaultPath = "drover.state.json"

// Backend keeps a state in a file. One Backend serves one process; other
// processes use their own, and the lock orders them.
type Backend struct {
	path string

	// mu orders this process's calls; the file lock orders processes.
	mu sync.Mutex
	// held is the lock taken by Lock (or by Journal for its lifetime),
	// nil when this process holds none.
	held *heldLock
	// journal is the journal open on this Backend, if any.
	journal *journal
}

var _ state.Backend = (*Backend)(nil)

// New returns a Backend for the state file at path (DefaultPath in the
// working folder, unless configured otherwise). Nothing is touched until
// it is used.
func New(path string) *Backend {
	return &Backend{path: path}
}

func (b *Backend) backupPath() string  { return b.path + ".backup" }
func (b *Backend) lockPath() string    { return b.path + ".lock" }
func (b *Backend) journalPath() string { return b.path + ".journal" }

// PlanKeyPath is where the workspace's plan key (see plan.Seal) lives:
// beside the state, under the same owner, so whoever may change the state
// may also seal plans for it.
func (b *Backend) PlanKeyPath() string { return b.path + ".plan-key" }

// Read implements state.Backend. When a journal is left from an apply that
// did not finish, Read replays it onto the state it continues, writes the
// result as the next serial and removes the journal, under the lock. When
// the lock is another process's (an apply running now) or this process has
// a journal open, it replays in memory only and changes nothing on disk.
func (b *Backend) Read(ctx context.Context) (*state.State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := os.Lstat(b.journalPath()); os.IsNotExist(err) {
		s, _, err := b.readStored()
		return s, err
	}
	if b.journal != nil {
		return b.replayed()
	}
	if b.held == nil {
		fl, err := b.tryFlock()
		if err != nil {
			return nil, err
		}
		if fl == nil {
			return b.replayed()
		}
		h := &heldLock{fl: fl, path: b.lockPath(), info: state.NewLockInfo("read")}
		if err := writeLockInfo(h.path, h.info); err != nil {
			h.release(true)
			return nil, err
		}
		b.held = h
		defer func() {
			b.held = nil
			h.release(true)
		}()
	}
	return b.recover()
}

// readStored reads the state file: nil when there is none, and its bytes
// for the backup.
func (b *Backend) readStored() (*state.State, []byte, error) {
	data, err := os.ReadFile(b.path)
	if os.IsNotExist(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	s, err := state.Unmarshal(data)
	if err != nil {
		return nil, data, b.unreadable(err)
	}
	return s, data, nil
}

// unreadable is the error of a state file that cannot be read: what is
// wrong with it, and how to restore the previous version, the backup.
// Pushing the backup keeps the damaged file as the new backup (write), so
// nothing is lost.
func (b *Backend) unreadable(err error) error {
	var next string
	data, rerr := os.ReadFile(b.backupPath())
	switch prev, perr := state.Unmarshal(data); {
	case os.IsNotExist(rerr):
		next = fmt.Sprintf("There is no backup (%s) to restore: repair the file, or replace it with a state document with `drover state push --force FILE`.", b.backupPath())
	case rerr != nil:
		next = fmt.Sprintf("Its backup %s cannot be read either (%v): repair one of them.", b.backupPath(), rerr)
	case perr != nil:
		next = fmt.Sprintf("Its backup %s cannot be read either (%v): repair one of them.", b.backupPath(), perr)
	default:
		next = fmt.Sprintf("Its previous version, serial %d, is in %s; to restore it, run `drover state push --force %s` (the damaged file is then kept as the backup).",
			prev.Serial, b.backupPath(), b.backupPath())
	}
	return fmt.Errorf("the state file %s cannot be read: %w. %s", b.path, err, next)
}

// replayed is the stored state with the journal applied, for reading only.
func (b *Backend) replayed() (*state.State, error) {
	stored, _, err := b.readStored()
	if err != nil {
		return nil, err
	}
	jf, err := readJournal(b.journalPath())
	if err != nil {
		return nil, err
	}
	s, _, err := b.resolve(stored, jf)
	return s, err
}

// recover brings a journal left by an interrupted apply into the state
// file. The lock is held.
func (b *Backend) recover() (*state.State, error) {
	stored, raw, err := b.readStored()
	if err != nil {
		return nil, err
	}
	jf, err := readJournal(b.journalPath())
	if err != nil {
		return nil, err
	}
	s, replay, err := b.resolve(stored, jf)
	if err != nil {
		return nil, err
	}
	if replay {
		if err := b.write(s, stored, raw); err != nil {
			return nil, err
		}
	}
	if err := removeDurably(b.journalPath()); err != nil {
		return nil, err
	}
	return s, nil
}

// resolve decides what a journal means for the stored state: the state
// with the journal replayed (replay set), the stored state when the journal
// is stale or empty, or an error when they belong to different histories.
func (b *Backend) resolve(stored *state.State, jf *journalFile) (*state.State, bool, error) {
	if jf == nil || jf.head == nil {
		return stored, false, nil
	}
	h := jf.head
	base := stored
	switch {
	case stored == nil && h.Serial != 0:
		return nil, false, fmt.Errorf("the journal %s continues serial %d of lineage %s, but there is no state file %s: restore the state file (perhaps from %s), or remove the journal to discard the changes it records",
			b.journalPath(), h.Serial, h.Lineage, b.path, b.backupPath())
	case stored == nil:
		base = &state.State{Lineage: h.Lineage}
	case stored.Lineage != h.Lineage:
		return nil, false, fmt.Errorf("the journal %s belongs to lineage %s but the state file %s is lineage %s: it was left by an apply on another state; move it away to keep the state file as it is",
			b.journalPath(), h.Lineage, b.path, stored.Lineage)
	case stored.Serial > h.Serial:
		// The apply persisted its final state and was stopped before it
		// removed the journal.
		return stored, false, nil
	case stored.Serial < h.Serial:
		return nil, false, fmt.Errorf("the journal %s continues serial %d but the state file %s is at serial %d: the state file was replaced by an older copy; restore the newer state file, or remove the journal to discard the changes it records",
			b.journalPath(), h.Serial, b.path, stored.Serial)
	}
	s := base.DeepCopy()
	for _, e := range jf.entries {
		if err := s.Replay(e); err != nil {
			return nil, false, err
		}
	}
	return s, true, nil
}

// Persist implements state.Backend, with the rules of `state push`: a
// state of another lineage, or one older than the stored one (it was read
// before someone else wrote), is refused unless opts.Force. The serial
// written is one past the larger of the stored serial and s.Serial, so it
// never goes back; s.Serial is set to it.
func (b *Backend) Persist(ctx context.Context, s *state.State, opts state.PersistOptions) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.journal != nil {
		return errors.New("an apply's journal is open on this state: its Commit writes the final state")
	}
	return b.withLock(ctx, "persist", func() error {
		return b.persist(s, opts)
	})
}

// persist writes s under the lock, checking it against the stored state
// and against a journal left by an interrupted apply: writing over one
// would drop the changes it records, so it must be replayed (by Read)
// first, or discarded with Force.
func (b *Backend) persist(s *state.State, opts state.PersistOptions) error {
	if s == nil {
		return errors.New("no state to write")
	}
	// An unreadable stored state is replaced only by force; its error says
	// how to restore the backup, which is the likelier wish.
	stored, raw, err := b.readStored()
	if err != nil && !opts.Force {
		return err
	}
	_, jerr := os.Lstat(b.journalPath())
	journalLeft := jerr == nil
	if journalLeft && !opts.Force {
		jf, err := readJournal(b.journalPath())
		if err != nil {
			return err
		}
		if _, replay, _ := b.resolve(stored, jf); replay {
			return &state.RefusedError{Err: fmt.Errorf("the journal %s holds changes from an apply that did not finish: read the state first, which replays them", b.journalPath())}
		}
	}
	if !opts.Force {
		if err := b.check(s, stored); err != nil {
			return err
		}
	}
	if err := b.write(s, stored, raw); err != nil {
		return err
	}
	if journalLeft {
		return removeDurably(b.journalPath())
	}
	return nil
}

// check refuses to write s over a stored state of another history, or
// over one written since s was read.
func (b *Backend) check(s, stored *state.State) error {
	if stored == nil {
		return nil
	}
	if s.Lineage != stored.Lineage {
		return &state.RefusedError{Err: fmt.Errorf("the state to write is lineage %s but the stored state %s is lineage %s: they are histories of different configurations",
			s.Lineage, b.path, stored.Lineage)}
	}
	if s.Serial < stored.Serial {
		return &state.RefusedError{Err: fmt.Errorf("the state to write continues serial %d but the stored state %s is already at serial %d: it changed since this state was read; read it again",
			s.Serial, b.path, stored.Serial)}
	}
	return nil
}

// write stores s as the next serial after stored and s, keeping raw (the
// stored file's bytes) as the backup, and sets s.Serial.
func (b *Backend) write(s, stored *state.State, raw []byte) error {
	next := s.Serial + 1
	if stored != nil && stored.Serial >= s.Serial {
		next = stored.Serial + 1
	}
	out := *s
	out.Serial = next
	data, err := state.Marshal(&out)
	if err != nil {
		return fmt.Errorf("writing the state: %w", err)
	}
	b.removeTemps()
	if raw != nil {
		if err := atomicfile.Write(b.backupPath(), raw); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(b.path, data); err != nil {
		return err
	}
	s.Serial = next
	return nil
}

// removeTemps removes temporary files left by a process killed while
// writing. The lock is held, so no other writer is using one.
func (b *Backend) removeTemps() {
	dir, base := filepath.Split(b.path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, atomicfile.TempPrefix(base)) || strings.HasPrefix(n, atomicfile.TempPrefix(base+".backup")) {
			os.Remove(filepath.Join(dir, n))
		}
	}
}
