package local

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/state"
)

// FuzzReadJournal reads arbitrary bytes as the journal a killed apply
// left beside the state, as every run does first: the journal reads or is
// refused, the entries it reads write out as a journal that reads back the
// same, and replaying it onto the state ends in a state or an error.
func FuzzReadJournal(f *testing.F) {
	ctx := context.Background()
	dir := f.TempDir()
	path := filepath.Join(dir, DefaultPath)
	b := New(path)
	base := stateWith("L", 0, 0, 1)
	if err := b.Persist(ctx, base, state.PersistOptions{}); err != nil {
		f.Fatal(err)
	}
	stored, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	j, err := b.Journal(ctx, base)
	if err != nil {
		f.Fatal(err)
	}
	gone := counterRes.Instance(addrs.IntK(0))
	if err := j.Record(state.JournalEntry{Set: counterInstance(5, state.Pending)}, state.JournalEntry{Set: counterInstance(5, state.Ready)},
		state.JournalEntry{Remove: &gone}, state.JournalEntry{Output: &state.NamedOutput{Name: "o", Deleted: true}}); err != nil {
		f.Fatal(err)
	}
	j.Close()
	journal, err := os.ReadFile(b.journalPath())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(journal)
	f.Add(journal[:len(journal)-7])
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(b.journalPath(), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, stored, 0o600); err != nil {
			t.Fatal(err)
		}
		jf, err := readJournal(b.journalPath())
		if err == nil && jf.head != nil {
			head, err := json.Marshal(jf.head)
			if err != nil {
				t.Fatal(err)
			}
			lines := [][]byte{head}
			for _, e := range jf.entries {
				line, err := state.MarshalEntry(e)
				if err != nil {
					t.Fatalf("read an entry it cannot write: %v", err)
				}
				lines = append(lines, line)
			}
			again := append(bytes.Join(lines, []byte{'\n'}), '\n')
			if err := os.WriteFile(b.journalPath(), again, 0o600); err != nil {
				t.Fatal(err)
			}
			back, err := readJournal(b.journalPath())
			if err != nil || len(back.entries) != len(jf.entries) || *back.head != *jf.head {
				t.Fatalf("a journal written from what was read reads back differently (%v):\n%s", err, again)
			}
		}
		s, err := New(path).Read(ctx)
		if err == nil && s == nil {
			t.Fatal("Read returned neither a state nor an error")
		}
	})
}

// FuzzReadLockInfo reads arbitrary bytes as the lock file, whose record
// names the holder in "state is locked by ..." and is matched by
// force-unlock: a record it reads writes out and reads back the same,
// even over a longer earlier record.
func FuzzReadLockInfo(f *testing.F) {
	f.Add([]byte(`{"id":"5f0c7a1e-2f1b-4c7e-9d0a-0b6f3c1d2e4f","operation":"apply","who":"root@fs1","pid":4242,"created":"2026-12-07T10:21:26Z"}` + "\n"))
	f.Add([]byte(`{"id":"a","operation":"plan","who":"x","pid":1,"created":"2026-12-07T10:21:26.123456789+01:00"}` + "\n" + `{"id":"leftover"`))
	f.Add([]byte(`{"id":""}`))
	path := filepath.Join(f.TempDir(), DefaultPath+".lock")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		info, ok := readLockInfo(path)
		if !ok {
			return
		}
		if err := writeLockInfo(path, info); err != nil {
			t.Fatal(err)
		}
		back, ok := readLockInfo(path)
		if !ok || back.ID != info.ID || back.Operation != info.Operation || back.Who != info.Who || back.PID != info.PID || !back.Created.Equal(info.Created) {
			t.Fatalf("lock record %+v read back as %+v (%v)", info, back, ok)
		}
	})
}
