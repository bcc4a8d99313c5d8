package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/drover-dr/drover/state"
	"github.com/gofrs/flock"
)

// The lock is an flock on <path>.lock, and the file holds the LockInfo of
// its holder so that others can say who holds it. The file is never opened
// through a symlink: one planted there would have the record written into
// whatever it leads to. The holder removes the file when it unlocks; one
// who opened the file just before that removal ends up locking a file no
// longer in the folder, so after locking, the locker checks that the path
// still names the file it locked, and tries again if not.

// lockDoc is the lock file's content.
type lockDoc struct {
	ID        string    `json:"id"`
	Operation string    `json:"operation"`
	Who       string    `json:"who"`
	PID       int       `json:"pid"`
	Created   time.Time `json:"created"`
}

var errHeld = errors.New("the state lock is held by another process")

// Polling for a held lock starts fast, for locks held briefly by a read or
// a write, and slows down for locks held through an apply.
const (
	firstPoll = 5 * time.Millisecond
	maxPoll   = 250 * time.Millisecond
)

// Lock implements state.Backend. With no deadline on ctx it fails at once
// when the lock is held; with one it polls until then.
func (b *Backend) Lock(ctx context.Context, info state.LockInfo) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held != nil {
		return "", fmt.Errorf("this process already holds the state lock (lock ID %s)", b.held.info.ID)
	}
	info = complete(info)
	h, err := b.acquire(ctx, info)
	if err != nil {
		return "", err
	}
	b.held = h
	return info.ID, nil
}

// Unlock implements state.Backend.
func (b *Backend) Unlock(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held == nil {
		return errors.New("this process does not hold the state lock")
	}
	if id != b.held.info.ID {
		return fmt.Errorf("lock ID %s is not the ID of the lock this process holds (%s)", id, b.held.info.ID)
	}
	if b.journal != nil {
		return errors.New("an apply's journal is open on this state: commit or close it before unlocking")
	}
	err := b.held.release(true)
	b.held = nil
	return err
}

// ForceUnlock implements state.Backend. The OS releases the lock of a
// process that ended, so what is left to remove is the record of a lock
// whose holder died; a lock whose holder runs is refused, since only
// stopping that process is safe.
func (b *Backend) ForceUnlock(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held != nil {
		if b.held.info.ID != id {
			return fmt.Errorf("this process holds the state lock, with ID %s", b.held.info.ID)
		}
		if b.journal != nil {
			return errors.New("an apply's journal is open on this state: commit or close it before unlocking")
		}
		err := b.held.release(true)
		b.held = nil
		return err
	}
	fl, err := b.tryFlock()
	if err != nil {
		return err
	}
	if fl == nil {
		le := b.lockError(errHeld)
		if le.Info.ID != "" && le.Info.ID != id {
			return fmt.Errorf("%s; that process is still running, and releases the lock when it ends: wait for it, or stop it", idMismatch(id, le.Info))
		}
		return fmt.Errorf("cannot force the state unlocked: a running process holds the lock and releases it when it ends; stop that process instead: %w", le)
	}
	h := &heldLock{fl: fl, path: b.lockPath()}
	info, ok := readLockInfo(h.path)
	if !ok {
		h.release(true)
		return errors.New("the state is not locked")
	}
	if info.ID != id {
		h.release(false)
		return fmt.Errorf("%s, which is gone: to remove its lock, run `drover force-unlock %s`", idMismatch(id, info), info.ID)
	}
	return h.release(true)
}

// idMismatch says that id is not the ID of the lock info describes, and
// whose lock that is.
func idMismatch(id string, info state.LockInfo) string {
	return fmt.Sprintf("lock ID %s does not match the ID of the state lock, %s, taken by %s (pid %d) for %q at %s",
		id, info.ID, info.Who, info.PID, info.Operation, info.Created.Format(time.RFC3339))
}

// heldLock is a lock this Backend holds.
type heldLock struct {
	fl   *flock.Flock
	path string
	info state.LockInfo
}

// release unlocks, first removing the lock file when remove is set. The
// file goes while the lock is still held, so that nobody can lock it anew
// in between.
func (h *heldLock) release(remove bool) error {
	var err error
	if remove {
		if rerr := os.Remove(h.path); rerr != nil && !os.IsNotExist(rerr) {
			err = rerr
		}
	}
	if uerr := h.fl.Unlock(); err == nil {
		err = uerr
	}
	return err
}

// complete fills in what the caller left out of info.
func complete(info state.LockInfo) state.LockInfo {
	def := state.NewLockInfo(info.Operation)
	if info.ID == "" {
		info.ID = def.ID
	}
	if info.Who == "" {
		info.Who = def.Who
	}
	if info.PID == 0 {
		info.PID = def.PID
	}
	if info.Created.IsZero() {
		info.Created = def.Created
	}
	return info
}

// acquire takes the lock for info, waiting as Lock describes.
func (b *Backend) acquire(ctx context.Context, info state.LockInfo) (*heldLock, error) {
	_, wait := ctx.Deadline()
	delay := firstPoll
	for {
		fl, err := b.tryFlock()
		if err != nil {
			return nil, err
		}
		if fl != nil {
			h := &heldLock{fl: fl, path: b.lockPath(), info: info}
			if err := writeLockInfo(h.path, info); err != nil {
				h.release(true)
				return nil, err
			}
			return h, nil
		}
		if !wait {
			return nil, b.lockError(errHeld)
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, b.lockError(fmt.Errorf("gave up waiting for the state lock: %w", ctx.Err()))
		case <-timer.C:
		}
		delay = min(2*delay, maxPoll)
	}
}

// tryFlock takes the file lock if it is free, and returns nil if not.
func (b *Backend) tryFlock() (*flock.Flock, error) {
	path := b.lockPath()
	// Each retry means a holder unlocked meanwhile; a few in a row only
	// happen under heavy contention.
	for range 100 {
		fl := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDONLY|oNoFollow))
		ok, err := fl.TryLock()
		if err != nil {
			if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
				return nil, symlinkError(path)
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !ok {
			return nil, nil
		}
		locked, lerr := fl.Stat()
		named, nerr := os.Lstat(path)
		if lerr == nil && nerr == nil && os.SameFile(locked, named) {
			return fl, nil
		}
		fl.Unlock()
	}
	return nil, fmt.Errorf("locking %s: the lock file keeps being replaced", path)
}

// symlinkError says that the lock file is a symlink, which Drover neither
// follows nor removes: someone made it, on purpose or not.
func symlinkError(path string) error {
	to, _ := os.Readlink(path)
	return fmt.Errorf("the state lock file %s is a symlink (to %s); Drover never opens the lock through one, since the lock record would overwrite the file it leads to. Remove it (rm %s) and run again, and find out who made it if not you", path, to, path)
}

// withLock runs fn under the lock: the caller's, or one taken (waiting as
// Lock does) for fn alone.
func (b *Backend) withLock(ctx context.Context, operation string, fn func() error) error {
	if b.held != nil {
		return fn()
	}
	h, err := b.acquire(ctx, state.NewLockInfo(operation))
	if err != nil {
		return err
	}
	err = fn()
	if rerr := h.release(true); err == nil {
		err = rerr
	}
	return err
}

// writeLockInfo writes info over the lock file's content in one write,
// then trims what a longer earlier record left, so a reader sees a whole
// record followed at worst by leftovers it ignores.
func writeLockInfo(path string, info state.LockInfo) error {
	data, err := json.Marshal(lockDoc(info))
	if err != nil {
		return err
	}
	data = append(data, '\n')
	f, err := os.OpenFile(path, os.O_WRONLY|oNoFollow, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Truncate(int64(len(data)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("recording the lock in %s: %w", path, err)
	}
	return nil
}

// readLockInfo reads the first record in the lock file.
func readLockInfo(path string) (state.LockInfo, bool) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		return state.LockInfo{}, false
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return state.LockInfo{}, false
	}
	var doc lockDoc
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil || doc.ID == "" {
		return state.LockInfo{}, false
	}
	return state.LockInfo(doc), true
}

// lockError says who holds the lock. The holder writes its record just
// after locking, so an empty file is given a moment to fill.
func (b *Backend) lockError(cause error) *state.LockError {
	deadline := time.Now().Add(500 * time.Millisecond)
	for {
		if info, ok := readLockInfo(b.lockPath()); ok {
			return &state.LockError{Info: info, Err: cause}
		}
		if time.Now().After(deadline) {
			return &state.LockError{Info: state.LockInfo{Who: "an unknown process", Operation: "unknown"}, Err: cause}
		}
		time.Sleep(firstPoll)
	}
}
