package local

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/state"
)

func TestLockInProcess(t *testing.T) {
	ctx := context.Background()
	b, path := newBackend(t)
	id, err := b.Lock(ctx, state.LockInfo{Operation: "plan"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lock(ctx, state.LockInfo{Operation: "plan"}); err == nil {
		t.Error("locked twice")
	}
	// Another Backend, as another process would, finds it held.
	_, err = New(path).Lock(ctx, state.LockInfo{Operation: "apply"})
	var le *state.LockError
	if !errors.As(err, &le) || le.Info.ID != id || le.Info.Operation != "plan" || le.Info.PID != os.Getpid() || !strings.Contains(le.Info.Who, "@") {
		t.Fatalf("second Lock error = %#v", err)
	}
	if err := b.Unlock("other"); err == nil || !strings.Contains(err.Error(), "is not the ID") {
		t.Errorf("Unlock with a wrong ID: %v", err)
	}
	if err := b.Unlock(id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file left after Unlock: %v", err)
	}
	if err := b.Unlock(id); err == nil {
		t.Error("unlocked twice")
	}
}

// TestLockContention runs the holder in another process: a second locker
// fails at once naming it, or with a deadline waits and gets the lock once
// the holder lets go.
func TestLockContention(t *testing.T) {
	b, path := newBackend(t)
	h := startHelper(t, "hold", path, "")
	line := h.next(t)
	holderID, ok := strings.CutPrefix(line, "locked ")
	if !ok {
		t.Fatalf("helper said %q", line)
	}

	start := time.Now()
	_, err := b.Lock(context.Background(), state.NewLockInfo("plan"))
	var le *state.LockError
	if !errors.As(err, &le) {
		t.Fatalf("Lock with the lock held elsewhere: %v", err)
	}
	if le.Info.PID != h.cmd.Process.Pid || le.Info.ID != holderID || le.Info.Operation != "apply" {
		t.Errorf("lock error names %+v, want pid %d ID %s", le.Info, h.cmd.Process.Pid, holderID)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("Lock without a deadline waited %s", waited)
	}
	t.Logf("without a deadline: %v", err)

	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = b.Lock(short, state.NewLockInfo("plan"))
	if !errors.As(err, &le) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock with a short deadline: %v", err)
	}

	long, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		_, err := b.Lock(long, state.NewLockInfo("apply"))
		got <- err
	}()
	if _, err := h.stdin.Write([]byte("release\n")); err != nil {
		t.Fatal(err)
	}
	if line := h.next(t); line != "unlocked" {
		t.Fatalf("helper said %q", line)
	}
	if err := <-got; err != nil {
		t.Fatalf("Lock after the holder let go: %v", err)
	}
	info, ok := readLockInfo(path + ".lock")
	if !ok || info.PID != os.Getpid() {
		t.Errorf("lock file records %+v, want this process", info)
	}
}

func TestForceUnlock(t *testing.T) {
	b, path := newBackend(t)

	// A live holder cannot be forced out.
	h := startHelper(t, "hold", path, "")
	id, _ := strings.CutPrefix(h.next(t), "locked ")
	err := b.ForceUnlock(id)
	var le *state.LockError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "running process") {
		t.Fatalf("ForceUnlock of a live holder: %v", err)
	}
	// With a wrong ID, that is what it hears first.
	if err := b.ForceUnlock("not-it"); err == nil || !strings.Contains(err.Error(), "lock ID not-it does not match the ID of the state lock, "+id) ||
		!strings.Contains(err.Error(), "still running") {
		t.Errorf("ForceUnlock of a live holder with a wrong ID: %v", err)
	}

	// A killed holder leaves its record, which no longer stops anyone.
	h.kill(t)
	if info, ok := readLockInfo(path + ".lock"); !ok || info.ID != id {
		t.Fatalf("record of the killed holder: %+v %v", info, ok)
	}
	if err := b.ForceUnlock("not-it"); err == nil || !strings.Contains(err.Error(), "lock ID not-it does not match the ID of the state lock, "+id) {
		t.Errorf("ForceUnlock with a wrong ID: %v", err)
	}
	if err := b.ForceUnlock(id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file left after ForceUnlock: %v", err)
	}
	if err := b.ForceUnlock(id); err == nil || !strings.Contains(err.Error(), "not locked") {
		t.Errorf("ForceUnlock with no lock: %v", err)
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ForceUnlock with no lock left a lock file: %v", err)
	}
}

func TestLockAfterHolderKilled(t *testing.T) {
	b, path := newBackend(t)
	h := startHelper(t, "hold", path, "")
	h.next(t)
	h.kill(t)
	id, err := b.Lock(context.Background(), state.NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	if info, _ := readLockInfo(path + ".lock"); info.ID != id {
		t.Errorf("lock file records %+v, want ID %s", info, id)
	}
}

// TestPersistWhileLockedElsewhere: a write without the caller's lock
// takes it for itself, and so fails while another process holds it.
func TestPersistWhileLockedElsewhere(t *testing.T) {
	b, path := newBackend(t)
	h := startHelper(t, "hold", path, "")
	h.next(t)
	err := b.Persist(context.Background(), stateWith("L", 0), state.PersistOptions{})
	var le *state.LockError
	if !errors.As(err, &le) || le.Info.PID != h.cmd.Process.Pid {
		t.Fatalf("Persist with the lock held elsewhere: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file written under another's lock")
	}
}

// TestLockRefusesSymlink: a symlink another user planted as the lock file
// is neither followed (its target would get the lock record) nor taken as
// the lock; the error says what it is and what to do.
func TestLockRefusesSymlink(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(b *Backend) error
	}{
		{"lock", func(b *Backend) error { _, err := b.Lock(ctx, state.NewLockInfo("apply")); return err }},
		{"persist", func(b *Backend) error { return b.Persist(ctx, stateWith("L", 0, 1), state.PersistOptions{}) }},
		{"force-unlock", func(b *Backend) error { return b.ForceUnlock("some-id") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, path, victim := newSharedBackend(t)
			plantAsNobody(t, victim, path+".lock")
			err := tt.run(b)
			if err == nil || !strings.Contains(err.Error(), path+".lock is a symlink") || !strings.Contains(err.Error(), "rm "+path+".lock") {
				t.Errorf("err = %v, want one naming the symlink and saying to remove it", err)
			}
			if b, _ := os.ReadFile(victim); string(b) != "root only" {
				t.Errorf("the symlink's target now holds %q", b)
			}
			if fi, err := os.Lstat(path + ".lock"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the symlink was removed: %v", err)
			}
		})
	}
}
