package state

import (
	"context"
	"fmt"
	"time"

	"github.com/drover-dr/drover/addrs"
)

// Backend stores one State with a lock and a journal.
//
// Invariants: Persist writes atomically and keeps the previous version as a
// backup; a Journal's records survive a SIGKILL of the writer once Record
// returns; Read replays a journal left by a killed apply onto the state it
// was started from, so the next run sees every change that finished.
type Backend interface {
	// Lock takes the state lock, waiting up to the context's deadline, and
	// returns its ID. When another holder has it, the error is a *LockError.
	Lock(ctx context.Context, info LockInfo) (string, error)
	Unlock(id string) error
	// ForceUnlock removes a lock left by a process that died, if id matches.
	ForceUnlock(id string) error
	// Read returns the stored state, or nil when there is none yet.
	Read(ctx context.Context) (*State, error)
	// Persist stores s as the next serial: s.Serial is set to the stored
	// serial + 1. A state of another lineage is refused unless Force.
	Persist(ctx context.Context, s *State, opts PersistOptions) error
	// Journal begins recording changes made on top of base (as last read or
	// persisted). Close it with Commit after persisting the final state.
	Journal(ctx context.Context, base *State) (Journal, error)
}

// PersistOptions adjusts Persist; used by `state push`.
type PersistOptions struct {
	Force bool
}

// RefusedError is a Persist error that PersistOptions.Force overrides: the
// caller may offer forcing, in its own words.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// Journal is an append-only record of changes to a state, written before
// and after each change so an apply killed at any moment can be resumed.
type Journal interface {
	// Record appends entries and makes them durable (synced) before
	// returning: for intents, which must outlive a power loss because a
	// provider is about to act on them. Concurrent calls are group-committed.
	Record(entries ...JournalEntry) error
	// Append writes entries before returning, so they survive the process
	// being killed, but leaves syncing to a later Record or Commit: for
	// outcomes, which after a power loss are found again by refreshing the
	// objects the intents named.
	Append(entries ...JournalEntry) error
	// Commit persists final (as Backend.Persist) and discards the journal.
	Commit(ctx context.Context, final *State) error
	// Close discards the handle without committing; the journal stays for
	// the next Read to replay.
	Close() error
}

// JournalEntry is one step of an apply: the object as it now stands, or
// its removal. Exactly one field is set.
type JournalEntry struct {
	// Set is the object to record: status Pending before a change, Ready or
	// Tainted after. Remove names an object that no longer exists.
	Set    *Instance
	Remove *addrs.Instance
	// Output, when set, records a root output value.
	Output *NamedOutput
	// Runbook, when set, records a runbook run's progress.
	Runbook *RunbookEntry
}

// NamedOutput is an output change in a journal.
type NamedOutput struct {
	Name string
	Output
	Deleted bool
}

// LockInfo says who holds a lock.
type LockInfo struct {
	ID        string
	Operation string
	Who       string
	PID       int
	Created   time.Time
}

// LockError is returned when the lock is held by someone else.
type LockError struct {
	Info LockInfo
	Err  error
}

func (e *LockError) Error() string {
	return fmt.Sprintf("state is locked by %s (pid %d) for %q since %s, lock ID %s",
		e.Info.Who, e.Info.PID, e.Info.Operation, e.Info.Created.Format(time.RFC3339), e.Info.ID)
}

func (e *LockError) Unwrap() error { return e.Err }
