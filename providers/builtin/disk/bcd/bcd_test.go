package bcd

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers/builtin/registry/regf"
	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
)

const (
	fs2 = "{11111111-2222-3333-4444-555555555555}"
	fs1 = "{66666666-7777-8888-9999-aaaaaaaaaaaa}"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fixture builds a BCD store like bcdedit's: the boot manager and two
// Windows loaders, FS2's the default.
func fixture(t testing.TB) []byte {
	t.Helper()
	h := regf.New("NewStoreRoot", now)
	objects, _ := h.Root.AddSubkey("Objects", now)
	object := func(id string, typ uint32, elements map[string]regf.Value) {
		o, _ := objects.AddSubkey(id, now)
		d, _ := o.AddSubkey("Description", now)
		d.SetValue("Type", uint32(regtext.TypeDWord), regtext.DWord(typ), now)
		els, _ := o.AddSubkey("Elements", now)
		for name, v := range elements {
			el, _ := els.AddSubkey(name, now)
			el.SetValue("Element", v.Type, v.Data, now)
		}
	}
	str := func(s string) regf.Value {
		return regf.Value{Type: uint32(regtext.TypeString), Data: regtext.String(s)}
	}
	object(BootManager, 0x10100002, map[string]regf.Value{
		elemDefault:      str(fs2),
		elemTimeout:      {Type: uint32(regtext.TypeBinary), Data: binary.LittleEndian.AppendUint64(nil, 30)},
		elemDisplayOrder: {Type: uint32(regtext.TypeMultiString), Data: regtext.MultiString([]string{fs2, fs1})},
		elemDescription:  str("Windows Boot Manager"),
	})
	object(fs2, objectTypeOSLoader, map[string]regf.Value{
		elemDescription: str("FS2 - Windows Server"), elemAppPath: str(`\Windows\system32\winload.exe`),
		elemAppDevice: {Type: uint32(regtext.TypeBinary), Data: []byte{0, 0, 0, 0, 6, 0, 0, 0}},
	})
	object(fs1, objectTypeOSLoader, map[string]regf.Value{
		elemDescription: str("FS1 - Windows Server"), elemAppPath: str(`\Windows\system32\winload.exe`),
	})
	return h.Encode()
}

func TestReadAndEdit(t *testing.T) {
	s, err := Parse("BCD", fixture(t))
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
	s, _ := Parse("BCD", fixture(t))
	if err := s.SetDefault("FS9", now); err == nil || !strings.Contains(err.Error(), `no boot entry has the ID or description "FS9" (entries: {1111`) {
		t.Errorf("a missing entry: %v", err)
	}
}
