package disk

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	efi "github.com/canonical/go-efilib"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/disk/bcd"
	"github.com/drover-dr/drover/providers/builtin/disk/bcd/bcdtest"
	"github.com/drover-dr/drover/providers/builtin/disk/grubenv"
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

// bootEntry is a boot_entry configuration on the fixture's host.
func (f *bootFixture) bootEntry(set map[string]cty.Value) cty.Value {
	attrs := map[string]cty.Value{}
	for name, a := range bootEntrySchema().Block.Attributes {
		attrs[name] = cty.NullVal(a.Type)
	}
	attrs["host"] = f.hv
	for k, v := range set {
		attrs[k] = v
	}
	return cty.ObjectVal(attrs)
}

// apply plans config against prior and applies it (config null: destroys
// prior), failing the test on errors; it returns the new state and the
// diagnostics.
func (f *bootFixture) apply(prior, config cty.Value) (cty.Value, providers.Diagnostics) {
	f.t.Helper()
	ctx := f.t.Context()
	if prior == cty.NilVal {
		prior = cty.NullVal(config.Type())
	}
	plan := f.p.Plan(ctx, providers.PlanRequest{TypeName: "boot_entry", Prior: prior, Config: config})
	if plan.Diagnostics.HasErrors() {
		f.t.Fatalf("plan: %s", render(plan.Diagnostics))
	}
	resp := f.p.Apply(ctx, providers.ApplyRequest{TypeName: "boot_entry", Prior: prior, Planned: plan.Planned, Config: config})
	if resp.Diagnostics.HasErrors() {
		f.t.Fatalf("apply: %s", render(resp.Diagnostics))
	}
	return resp.New, resp.Diagnostics
}

func (f *bootFixture) write(name string, b []byte) {
	f.t.Helper()
	path := filepath.Join(f.root, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *bootFixture) read(name string) []byte {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.root, name))
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func grubEnv(t *testing.T, vars ...string) []byte {
	env := grubenv.New("grubenv")
	for i := 0; i < len(vars); i += 2 {
		if err := env.Set(vars[i], vars[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return env.Bytes()
}

// sameBytes compares text menus, which destroy gives back byte for byte.
func sameBytes(t *testing.T, before, after []byte) {
	if !bytes.Equal(after, before) {
		t.Errorf("destroy left\n%q\nwant\n%q", after, before)
	}
}

// sameBCD compares what a BCD store's boot manager holds; an edited store
// is a new hive, so its bytes differ.
func sameBCD(t *testing.T, before, after []byte) {
	b, err := bcd.Parse("before", before)
	if err != nil {
		t.Fatal(err)
	}
	a, err := bcd.Parse("after", after)
	if err != nil {
		t.Fatal(err)
	}
	bt, _ := b.Timeout()
	at, _ := a.Timeout()
	if a.Default() != b.Default() || at != bt {
		t.Errorf("destroy left default %s timeout %d, want %s and %d", a.Default(), at, b.Default(), bt)
	}
}

// TestDestroyGivesBackDefault: every loader's default goes back to the
// one the entry replaced, and the menu as it was, when the entry is
// destroyed; an entry that was the default already leaves it alone.
func TestDestroyGivesBackDefault(t *testing.T) {
	for _, tc := range []struct {
		name, loader, file string
		menu               func(t *testing.T) []byte
		entry              map[string]cty.Value
		same               func(t *testing.T, before, after []byte)
	}{
		{"grub", "grub", "/boot/grub/grubenv", func(t *testing.T) []byte { return grubEnv(t, "saved_entry", "standby") },
			map[string]cty.Value{"label": cty.StringVal("source")}, sameBytes},
		{"grub without a default", "grub", "/boot/grub/grubenv", func(t *testing.T) []byte { return grubEnv(t, "next_entry", "") },
			map[string]cty.Value{"label": cty.StringVal("source")}, sameBytes},
		{"grub already the default", "grub", "/boot/grub/grubenv", func(t *testing.T) []byte { return grubEnv(t, "saved_entry", "source") },
			map[string]cty.Value{"label": cty.StringVal("source")}, sameBytes},
		{"bcd", "bcd", "/Boot/BCD", func(*testing.T) []byte { return bcdtest.Fixture() },
			map[string]cty.Value{"label": cty.StringVal("FS1 - Windows Server"), "timeout": cty.NumberIntVal(5)}, sameBCD},
		{"bcd outside the display order", "bcd", "/Boot/BCD", func(*testing.T) []byte { return bcdtest.Fixture() },
			map[string]cty.Value{"label": cty.StringVal("Windows Recovery Environment")}, sameBCD},
		{"bootini entry rewritten", "bootini", "/boot.ini", func(*testing.T) []byte { return []byte(bootIni) },
			map[string]cty.Value{"path": cty.StringVal(`MULTI(0)disk(0)rdisk(0)partition(2)\winnt`), "label": cty.StringVal("Source"), "options": cty.StringVal("/sos")}, sameBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newBootFixture(t)
			before := tc.menu(t)
			f.write(tc.file, before)
			set := map[string]cty.Value{"loader": cty.StringVal(tc.loader), "file": cty.StringVal(tc.file), "default": cty.True}
			for k, v := range tc.entry {
				set[k] = v
			}
			config := f.bootEntry(set)
			state, _ := f.apply(cty.NilVal, config)
			if bytes.Equal(f.read(tc.file), before) && !strings.Contains(tc.name, "already") {
				t.Fatal("apply changed nothing")
			}
			if _, diags := f.apply(state, cty.NullVal(config.Type())); len(diags) > 0 {
				t.Errorf("destroy: %s", render(diags))
			}
			tc.same(t, before, f.read(tc.file))
		})
	}
}

// TestDestroyGivesBackEFIDefault: the EFI default is the first of
// BootOrder; destroy puts the entry it replaced first again.
func TestDestroyGivesBackEFIDefault(t *testing.T) {
	f := newBootFixture(t)
	dir := "sys/firmware/efi/efivars"
	put := func(name string, data []byte) {
		f.write(filepath.Join(dir, name+"-8be4df61-93ca-11d2-aa0d-00e098032b8c"), append(binary.LittleEndian.AppendUint32(nil, 7), data...))
	}
	for n, desc := range []string{"FS2 Windows", "DPSR backup drive"} {
		b, _ := (&efi.LoadOption{Attributes: efi.LoadOptionActive, Description: desc, FilePath: efi.DevicePath{efi.FilePathDevicePathNode(`\EFI\x.efi`)}}).Bytes()
		put(efi.FormatLoadOptionVariableName(efi.LoadOptionClassBoot, uint16(n)), b)
	}
	put("BootOrder", []byte{0, 0, 1, 0})
	order := filepath.Join(dir, "BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c")
	before := f.read(order)
	config := f.bootEntry(map[string]cty.Value{"loader": cty.StringVal("efi"), "label": cty.StringVal("DPSR backup drive"), "default": cty.True})
	state, _ := f.apply(cty.NilVal, config)
	if got := state.GetAttr("replaced_default"); !got.RawEquals(cty.StringVal("Boot0000")) {
		t.Errorf("replaced_default %#v", got)
	}
	if b := f.read(order); b[4] != 1 {
		t.Fatalf("BootOrder after apply % x", b)
	}
	f.apply(state, cty.NullVal(config.Type()))
	if after := f.read(order); !bytes.Equal(after, before) {
		t.Errorf("BootOrder after destroy % x, want % x", after, before)
	}
}

// TestNoOpSwitchBCD: switching a BCD store to its current default, or to
// an entry outside the display order found by its description, through
// the action; the first leaves the store's bytes as they were.
func TestNoOpSwitchBCD(t *testing.T) {
	f := newBootFixture(t)
	before := bcdtest.Fixture()
	f.write("Boot/BCD", before)
	args := func(label string) map[string]cty.Value {
		return map[string]cty.Value{"loader": cty.StringVal("bcd"), "label": cty.StringVal(label)}
	}
	resp := f.invoke("boot_set_default", args("fs2 - windows server"))
	if resp.Diagnostics.HasErrors() {
		t.Fatal(render(resp.Diagnostics))
	}
	if got, want := sha256.Sum256(f.read("Boot/BCD")), sha256.Sum256(before); got != want {
		t.Errorf("a switch to the current default rewrote the store: sha256 %x, want %x", got, want)
	}
	resp = f.invoke("boot_set_default", args("Windows Memory Diagnostic"))
	if resp.Diagnostics.HasErrors() {
		t.Fatal(render(resp.Diagnostics))
	}
	if e := resp.Result.GetAttr("entry").AsString(); e != bcdtest.MemoryTest {
		t.Errorf("entry %s, want %s", e, bcdtest.MemoryTest)
	}
}

// TestDestroyWithoutMenu: a menu file that is gone has nothing to give
// back; destroy succeeds.
func TestDestroyWithoutMenu(t *testing.T) {
	f := newBootFixture(t)
	f.write("boot/grub/grubenv", grubEnv(t, "saved_entry", "standby"))
	config := f.bootEntry(map[string]cty.Value{"loader": cty.StringVal("grub"), "label": cty.StringVal("source"), "default": cty.True})
	state, _ := f.apply(cty.NilVal, config)
	if err := os.Remove(filepath.Join(f.root, "boot/grub/grubenv")); err != nil {
		t.Fatal(err)
	}
	if _, diags := f.apply(state, cty.NullVal(config.Type())); len(diags) > 0 {
		t.Errorf("destroy: %s", render(diags))
	}
}
