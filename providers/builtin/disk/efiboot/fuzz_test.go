package efiboot

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	efi "github.com/canonical/go-efilib"
	"github.com/drover-dr/drover/host"
)

// FuzzVariables reads arbitrary Boot0000, BootOrder and BootNext
// variables from a host's efivarfs folder (real files): listing, finding
// and reading them returns values or errors, never panics, and moving an
// entry to the front of a BootOrder that reads keeps every other entry in
// its order when it still exists.
func FuzzVariables(f *testing.F) {
	o := &efi.LoadOption{Attributes: efi.LoadOptionActive, Description: "debian",
		FilePath: efi.DevicePath{efi.FilePathDevicePathNode(`\EFI\debian\shimx64.efi`)}}
	option, err := o.Bytes()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(option, []byte{0, 0, 1, 0, 2, 0}, []byte{1, 0})
	f.Add(option[:len(option)/2], []byte{0}, []byte{})
	// One folder for every input of a fuzzing process: each input
	// rewrites the three variables.
	root := f.TempDir()
	dir := filepath.Join(root, DefaultDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	h := host.NewLocal("fuzz", root)
	defer h.Close()
	f.Fuzz(func(t *testing.T, option, order, next []byte) {
		for name, data := range map[string][]byte{"Boot0000": option, "BootOrder": order, "BootNext": next} {
			b := append(binary.LittleEndian.AppendUint32(nil, 7), data...)
			if err := os.WriteFile(filepath.Join(dir, name+"-"+globalGUID), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ctx := Context(t.Context(), HostVars{Host: h, Dir: DefaultDir})
		Entries(ctx)
		Find(ctx, "Boot0000")
		Next(ctx)
		before, err := Order(ctx)
		if err != nil {
			return
		}
		_, bad := efi.ReadLoadOptionVariable(ctx, efi.LoadOptionClassBoot, 0)
		if err := SetDefault(ctx, 0); (err != nil) != (bad != nil) {
			t.Fatalf("SetDefault over BootOrder %v: %v (Boot0000 reads: %v)", before, err, bad)
		}
		if bad != nil {
			return
		}
		after, err := Order(ctx)
		if err != nil {
			t.Fatalf("BootOrder written by SetDefault does not read: %v", err)
		}
		// Boot0000 is the only entry there is: the others are stale.
		want := []uint16{0}
		if !slices.Equal(after, want) {
			t.Fatalf("SetDefault(0) over %v gave %v, want %v", before, after, want)
		}
	})
}
