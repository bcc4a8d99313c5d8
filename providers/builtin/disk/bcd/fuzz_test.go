package bcd

import (
	"testing"

	"github.com/drover-dr/drover/providers/builtin/disk/bcd/bcdtest"
	"github.com/google/go-cmp/cmp"
)

// FuzzParse reads arbitrary bytes as a BCD store, as `boot_entry` does
// with a host's \Boot\BCD: a store it accepts must list its entries, write
// itself out as a hive that reads back with the same entries, default and
// timeout, and take a new default that reads back.
func FuzzParse(f *testing.F) {
	store := bcdtest.Fixture()
	f.Add(store)
	f.Add(store[:4096])
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse("BCD", b)
		if err != nil {
			return
		}
		entries, def, seq := s.Entries(), s.Default(), s.BootSequence()
		timeout, hasTimeout := s.Timeout()
		back, err := Parse("BCD", s.Bytes())
		if err != nil {
			t.Fatalf("the store written out does not read: %v", err)
		}
		if diff := cmp.Diff(entries, back.Entries()); diff != "" {
			t.Fatalf("entries differ once written out:\n%s", diff)
		}
		if back.Default() != def || !cmp.Equal(back.BootSequence(), seq) {
			t.Fatalf("default %q / sequence %q became %q / %q once written out", def, seq, back.Default(), back.BootSequence())
		}
		if bt, ok := back.Timeout(); bt != timeout || ok != hasTimeout {
			t.Fatalf("timeout %d %v became %d %v once written out", timeout, hasTimeout, bt, ok)
		}
		if len(entries) == 0 {
			return
		}
		if err := back.SetDefault(entries[0].ID, now); err != nil {
			t.Fatalf("SetDefault(%s): %v", entries[0].ID, err)
		}
		again, err := Parse("BCD", back.Bytes())
		if err != nil {
			t.Fatalf("the store with a new default does not read: %v", err)
		}
		if again.Default() != entries[0].ID {
			t.Fatalf("default %q, want %q", again.Default(), entries[0].ID)
		}
	})
}
