package efiboot

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	efi "github.com/canonical/go-efilib"
	"github.com/drover-dr/drover/host"
)

const globalGUID = "8be4df61-93ca-11d2-aa0d-00e098032b8c"

// layout writes EFI variables as efivarfs shows them, below root.
func layout(t *testing.T, root string) {
	t.Helper()
	dir := filepath.Join(root, "sys/firmware/efi/efivars")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	put := func(name string, data []byte) {
		b := binary.LittleEndian.AppendUint32(nil, 7)
		if err := os.WriteFile(filepath.Join(dir, name+"-"+globalGUID), append(b, data...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for n, desc := range []string{"debian", "Windows Boot Manager", "UEFI PXE"} {
		o := &efi.LoadOption{Attributes: efi.LoadOptionActive, Description: desc,
			FilePath: efi.DevicePath{efi.FilePathDevicePathNode(`\EFI\` + desc + `\boot.efi`)}}
		b, err := o.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		put(efi.FormatLoadOptionVariableName(efi.LoadOptionClassBoot, uint16(n)), b)
	}
	put("BootOrder", []byte{0, 0, 1, 0, 2, 0})
	if err := os.WriteFile(filepath.Join(dir, "junk"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func hostCtx(t *testing.T) (context.Context, string) {
	root := t.TempDir()
	layout(t, root)
	h := host.NewLocal("fs2", root)
	t.Cleanup(func() { h.Close() })
	return Context(t.Context(), HostVars{Host: h, Dir: DefaultDir}), root
}

func TestBootVariables(t *testing.T) {
	ctx, root := hostCtx(t)
	es, err := Entries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || es[1].Description != "Windows Boot Manager" || es[1].Name() != "Boot0001" || !es[1].Active {
		t.Fatalf("entries %+v", es)
	}
	e, err := Find(ctx, "windows boot manager")
	if err != nil || e.Number != 1 {
		t.Fatalf("Find: %+v %v", e, err)
	}
	if err := SetDefault(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if o, _ := Order(ctx); len(o) != 3 || o[0] != 1 || o[1] != 0 || o[2] != 2 {
		t.Errorf("BootOrder %v", o)
	}
	if _, ok, _ := Next(ctx); ok {
		t.Error("BootNext set before SetNext")
	}
	if err := SetNext(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if n, ok, err := Next(ctx); !ok || n != 2 || err != nil {
		t.Errorf("BootNext %d %v %v", n, ok, err)
	}
	b, err := os.ReadFile(filepath.Join(root, "sys/firmware/efi/efivars/BootNext-"+globalGUID))
	if err != nil || len(b) != 6 || binary.LittleEndian.Uint32(b) != 7 || binary.LittleEndian.Uint16(b[4:]) != 2 {
		t.Errorf("BootNext file % x, %v", b, err)
	}
	// A shorter value replaces a longer one whole.
	if err := SetDefault(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if o, _ := Order(ctx); len(o) != 3 || o[0] != 2 {
		t.Errorf("BootOrder %v", o)
	}
}

// TestSetDefaultStaleOrder: a BootOrder naming an entry that was removed
// (common after an OS is uninstalled) does not keep a host from switching.
func TestSetDefaultStaleOrder(t *testing.T) {
	ctx, root := hostCtx(t)
	dir := filepath.Join(root, "sys/firmware/efi/efivars")
	stale := append(binary.LittleEndian.AppendUint32(nil, 7), 0, 0, 9, 0, 1, 0, 2, 0)
	if err := os.WriteFile(filepath.Join(dir, "BootOrder-"+globalGUID), stale, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SetDefault(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if o, _ := Order(ctx); !slices.Equal(o, []uint16{2, 0, 1}) {
		t.Errorf("BootOrder %v, want [2 0 1]", o)
	}
	if err := SetDefault(ctx, 9); err == nil || !strings.Contains(err.Error(), "Boot0009") {
		t.Errorf("SetDefault of an entry that is gone: %v", err)
	}
}

func TestErrors(t *testing.T) {
	ctx, _ := hostCtx(t)
	if _, err := Find(ctx, "Boot0009"); err == nil || !strings.Contains(err.Error(), `no EFI boot entry is "Boot0009" (entries: Boot0000 "debian"`) {
		t.Errorf("a missing entry: %v", err)
	}
	if err := SetNext(ctx, 9); err == nil {
		t.Error("BootNext to a missing entry")
	}
	h := host.NewLocal("bios", t.TempDir())
	defer h.Close()
	if _, err := Entries(Context(t.Context(), HostVars{Host: h, Dir: DefaultDir})); err == nil || !strings.Contains(err.Error(), `/sys/firmware/efi/efivars does not exist on host "bios": the host has no EFI variables`) {
		t.Errorf("a host without EFI: %v", err)
	}
}
