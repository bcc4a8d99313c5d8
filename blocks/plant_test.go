package blocks

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestRecordsIgnorePlantedSymlinks: a symlink planted where a target's
// undo journal or manifest goes is never written through, however valid
// what it leads to looks.
func TestRecordsIgnorePlantedSymlinks(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// plant makes the records the symlink replaces and returns where
		// it goes; write is what must not write through it.
		plant func(f *fixture) string
		write func(f *fixture) error
	}{
		{"undo journal", func(f *fixture) string {
			return f.target.Journal
		}, func(f *fixture) error {
			// Between Recover, which removes a journal it cannot read,
			// and the copy's first batch.
			j, err := openJournal(ctx, f.target, journalHeader{From: 1, To: 2, Target: f.target.Path})
			if err == nil {
				j.f.Close()
			}
			return err
		}},
		{"manifest updated in place", func(f *fixture) string {
			f.mustCopy(Options{})
			f.scribble(3, 3, 100)
			return f.target.Manifest
		}, func(f *fixture) error {
			_, err := f.copy(Options{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, testSize)
			at := tt.plant(f)
			// The victim holds the records a write through the symlink
			// would take for its own.
			old, err := os.ReadFile(at)
			if err != nil {
				old = []byte("root only")
			}
			victim := filepath.Join(f.dir, "victim")
			if err := os.WriteFile(victim, old, 0o600); err != nil {
				t.Fatal(err)
			}
			os.Remove(at)
			if err := os.Symlink(victim, at); err != nil {
				t.Fatal(err)
			}
			tt.write(f)
			if b, _ := os.ReadFile(victim); !bytes.Equal(b, old) {
				t.Errorf("wrote through the symlink at %s", at)
			}
		})
	}
}
