package bcd

import (
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers/builtin/disk/bcd/bcdtest"
	"github.com/drover-dr/drover/providers/builtin/registry/regf"
)

const (
	fs2 = bcdtest.FS2
	fs1 = bcdtest.FS1
)

var now = bcdtest.Time

func TestReadAndEdit(t *testing.T) {
	s, err := Parse("BCD", bcdtest.Fixture())
	if err != nil {
		t.Fatal(err)
	}
	if s.Default() != fs2 {
		t.Errorf("default %s", s.Default())
	}
	if n, ok := s.Timeout(); !ok || n != 30 {
		t.Errorf("timeout %d %v", n, ok)
	}
	es := s.Entries()
	if len(es) != 2 || es[0].ID != fs2 || es[1].Description != "FS1 - Windows Server" || es[0].Device != "0000000006000000" || es[1].Path != `\Windows\system32\winload.exe` {
		t.Errorf("entries %+v", es)
	}
	if err := s.SetDefault("fs1 - windows server", now); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTimeout(5, now); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBootSequence(fs2, now); err != nil {
		t.Fatal(err)
	}
	b := s.Bytes()
	again, err := Parse("BCD", b)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := again.Timeout(); again.Default() != fs1 || n != 5 || len(again.BootSequence()) != 1 || again.BootSequence()[0] != fs2 {
		t.Errorf("after edits: default %s timeout %d sequence %v", again.Default(), n, again.BootSequence())
	}
	// hivex reads the edited store the same way.
	path := filepath.Join(t.TempDir(), "BCD")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	exe := testenv.Command(t, "hivexget", "libhivex-bin")
	out, err := exec.Command(exe, path, `\Objects\`+BootManager+`\Elements\`+elemDefault, "Element").Output()
	if err != nil || strings.TrimSpace(string(out)) != fs1 {
		t.Errorf("hivexget default: %q %v", out, err)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{[]byte("[boot loader]\r\n"), `BCD: not a BCD store: not a valid registry hive: the file does not start with the "regf" signature`},
		{regf.New("x", now).Encode(), `BCD: a registry hive, but not a BCD store: it has no \Objects key`},
	} {
		if _, err := Parse("BCD", tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse: %v, want %q", err, tc.want)
		}
	}
	s, _ := Parse("BCD", bcdtest.Fixture())
	if err := s.SetDefault("FS9", now); err == nil || !strings.Contains(err.Error(), `no boot entry has the ID or description "FS9" (entries: {1111`) {
		t.Errorf("a missing entry: %v", err)
	}
}

// TestOutsideDisplayOrder: loaders the menu does not show (a recovery
// environment, the memory tester) are found by description as by GUID.
func TestOutsideDisplayOrder(t *testing.T) {
	s, err := Parse("BCD", bcdtest.Fixture())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ref, want string }{
		{"Windows Recovery Environment", bcdtest.Recovery},
		{"windows memory diagnostic", bcdtest.MemoryTest},
		{bcdtest.MemoryTest, bcdtest.MemoryTest},
		{"FS1 - Windows Server", fs1},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			e, err := s.Find(tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			if e.ID != tc.want {
				t.Errorf("found %s, want %s", e.ID, tc.want)
			}
		})
	}
	if _, err := s.Find("Windows Boot Manager"); err == nil {
		t.Error("the boot manager itself was offered as an entry")
	}
}

// TestNoOpEdits: setting what the store already holds leaves its bytes
// as they were.
func TestNoOpEdits(t *testing.T) {
	in := bcdtest.Fixture()
	for _, tc := range []struct {
		name string
		edit func(s *Store) error
	}{
		{"default by GUID", func(s *Store) error { return s.SetDefault(fs2, now.Add(time.Hour)) }},
		{"default by description", func(s *Store) error { return s.SetDefault("fs2 - windows server", now.Add(time.Hour)) }},
		{"timeout", func(s *Store) error { return s.SetTimeout(30, now.Add(time.Hour)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("BCD", in)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.edit(s); err != nil {
				t.Fatal(err)
			}
			if got, want := sha256.Sum256(s.Bytes()), sha256.Sum256(in); got != want {
				t.Errorf("sha256 %x, want %x: a no-op edit rewrote the store", got, want)
			}
		})
	}
}
