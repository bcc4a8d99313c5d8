package disk

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	efi "github.com/canonical/go-efilib"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

const bootIni = "[boot loader]\r\ntimeout=30\r\ndefault=multi(0)disk(0)rdisk(0)partition(1)\\WINNT\r\n[operating systems]\r\n" +
	"multi(0)disk(0)rdisk(0)partition(1)\\WINNT=\"FS2\" /fastdetect\r\n" +
	"multi(0)disk(0)rdisk(0)partition(2)\\WINNT=\"FS1\" /fastdetect\r\n"

type bootFixture struct {
	t    *testing.T
	root string
	p    providers.Provider
	hv   cty.Value
}

func newBootFixture(t *testing.T) *bootFixture {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "boot.ini"), []byte(bootIni), 0o644); err != nil {
		t.Fatal(err)
	}
	return &bootFixture{t: t, root: root, p: sdk.New(New()), hv: host.Config{Name: "fs2", Root: root}.Value()}
}

func (f *bootFixture) invoke(action string, set map[string]cty.Value) providers.InvokeResponse {
	attrs := map[string]cty.Value{}
	for name, a := range New().Actions[action].Schema.Args.Attributes {
		attrs[name] = cty.NullVal(a.Type)
	}
	attrs["host"] = f.hv
	for k, v := range set {
		attrs[k] = v
	}
	return f.p.Invoke(f.t.Context(), providers.InvokeRequest{Action: action, Args: cty.ObjectVal(attrs)})
}

func TestSetDefaultBootIni(t *testing.T) {
	f := newBootFixture(t)
	resp := f.invoke("boot_set_default", map[string]cty.Value{"loader": cty.StringVal("bootini"), "path": cty.StringVal(`multi(0)disk(0)rdisk(0)partition(2)\WINNT`)})
	if resp.Diagnostics.HasErrors() {
		t.Fatal(resp.Diagnostics)
	}
	if prev := resp.Result.GetAttr("previous").AsString(); prev != `multi(0)disk(0)rdisk(0)partition(1)\WINNT` {
		t.Errorf("previous %s", prev)
	}
	b, _ := os.ReadFile(filepath.Join(f.root, "boot.ini"))
	if want := strings.Replace(bootIni, `default=multi(0)disk(0)rdisk(0)partition(1)`, `default=multi(0)disk(0)rdisk(0)partition(2)`, 1); string(b) != want {
		t.Errorf("boot.ini:\n%q\nwant\n%q", b, want)
	}
	// An entry that does not exist: an error, and the file as it was.
	resp = f.invoke("boot_set_default", map[string]cty.Value{"loader": cty.StringVal("bootini"), "path": cty.StringVal(`multi(0)disk(0)rdisk(0)partition(7)\WINNT`)})
	if !resp.Diagnostics.HasErrors() || !strings.Contains(resp.Diagnostics[0].Detail, `/boot.ini on host "fs2" has no entry for multi(0)disk(0)rdisk(0)partition(7)\WINNT`) {
		t.Errorf("a missing entry: %v", resp.Diagnostics)
	}
	if after, _ := os.ReadFile(filepath.Join(f.root, "boot.ini")); string(after) != string(b) {
		t.Error("a failed switch changed boot.ini")
	}
	resp = f.invoke("boot_set_next", map[string]cty.Value{"loader": cty.StringVal("bootini"), "path": cty.StringVal(`multi(0)disk(0)rdisk(0)partition(1)\WINNT`)})
	if !resp.Diagnostics.HasErrors() || !strings.Contains(resp.Diagnostics[0].Detail, "BOOT.INI has no one-time boot") {
		t.Errorf("once on BOOT.INI: %v", resp.Diagnostics)
	}
}

func TestBadMenus(t *testing.T) {
	f := newBootFixture(t)
	for _, tc := range []struct{ loader, file, content, want string }{
		{"bootini", "/bad.ini", "[boot loader]\r\n[operating systems]\r\nno equals here\r\n", `/bad.ini on host "fs2":3: the entry "no equals here" has no =`},
		{"grub", "/grubenv", "# GRUB Environment Block\n", `/grubenv on host "fs2": the file is 25 bytes; a GRUB environment block is exactly 1024`},
		{"bcd", "/BCD", "not a hive", `/BCD on host "fs2": not a BCD store: not a valid registry hive`},
		{"bootini", "/utf16.ini", "\xff\xfe[\x00", `/utf16.ini on host "fs2":1: the file holds NUL bytes`},
	} {
		path := filepath.Join(f.root, tc.file)
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		resp := f.invoke("boot_set_default", map[string]cty.Value{"loader": cty.StringVal(tc.loader), "file": cty.StringVal(tc.file),
			"path": cty.StringVal("x"), "label": cty.StringVal("x")})
		if !resp.Diagnostics.HasErrors() || !strings.Contains(resp.Diagnostics[0].Detail, tc.want) {
			t.Errorf("%s: %v, want %q", tc.file, resp.Diagnostics, tc.want)
		}
		if b, _ := os.ReadFile(path); string(b) != tc.content {
			t.Errorf("%s changed", tc.file)
		}
	}
}

func TestEFIThroughProvider(t *testing.T) {
	f := newBootFixture(t)
	dir := filepath.Join(f.root, "sys/firmware/efi/efivars")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	put := func(name string, data []byte) {
		b := append(binary.LittleEndian.AppendUint32(nil, 7), data...)
		if err := os.WriteFile(filepath.Join(dir, name+"-8be4df61-93ca-11d2-aa0d-00e098032b8c"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for n, desc := range []string{"FS2 Windows", "DPSR backup drive"} {
		b, _ := (&efi.LoadOption{Attributes: efi.LoadOptionActive, Description: desc, FilePath: efi.DevicePath{efi.FilePathDevicePathNode(`\EFI\x.efi`)}}).Bytes()
		put(efi.FormatLoadOptionVariableName(efi.LoadOptionClassBoot, uint16(n)), b)
	}
	put("BootOrder", []byte{0, 0, 1, 0})
	resp := f.invoke("boot_set_next", map[string]cty.Value{"loader": cty.StringVal("efi"), "label": cty.StringVal("DPSR backup drive")})
	if resp.Diagnostics.HasErrors() {
		t.Fatal(resp.Diagnostics)
	}
	if e := resp.Result.GetAttr("entry").AsString(); e != "Boot0001" {
		t.Errorf("entry %s", e)
	}
	b, err := os.ReadFile(filepath.Join(dir, "BootNext-8be4df61-93ca-11d2-aa0d-00e098032b8c"))
	if err != nil || len(b) != 6 || b[4] != 1 {
		t.Errorf("BootNext % x %v", b, err)
	}
}

// TestReboot plays a host whose reboot takes a moment: the reboot command
// makes the probe fail, then answer with a new boot ID.
func TestReboot(t *testing.T) {
	f := newBootFixture(t)
	write := func(name, content string) {
		if err := os.MkdirAll(filepath.Join(f.root, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(f.root, "bin", name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("bootid", "#!/bin/sh\ntest -e \"$DROVER_HOST_ROOT/down\" && exit 1\ncat \"$DROVER_HOST_ROOT/boot_id\"\n")
	write("reboot", "#!/bin/sh\ntouch \"$DROVER_HOST_ROOT/down\"\n(sleep 0.3; echo second > \"$DROVER_HOST_ROOT/boot_id\"; rm \"$DROVER_HOST_ROOT/down\") >/dev/null 2>&1 &\n")
	if err := os.WriteFile(filepath.Join(f.root, "boot_id"), []byte("first\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	list := func(s ...string) cty.Value {
		var vs []cty.Value
		for _, x := range s {
			vs = append(vs, cty.StringVal(x))
		}
		return cty.ListVal(vs)
	}
	resp := f.invoke("host_reboot", map[string]cty.Value{"command": list("/bin/reboot"), "probe": list("/bin/bootid"), "interval": cty.StringVal("50ms"), "timeout": cty.StringVal("20s")})
	if resp.Diagnostics.HasErrors() {
		t.Fatal(resp.Diagnostics)
	}
	// A host that never comes back fails after the timeout.
	write("noop", "#!/bin/sh\n")
	resp = f.invoke("host_reboot", map[string]cty.Value{"command": list("/bin/noop"), "probe": list("/bin/bootid"), "interval": cty.StringVal("20ms"), "timeout": cty.StringVal("200ms")})
	if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != "Host did not come back" {
		t.Errorf("a host that does not reboot: %v", resp.Diagnostics)
	}
}
