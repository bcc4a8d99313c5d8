package vm

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/vm/bootsector"
	"github.com/drover-dr/drover/providers/builtin/vm/guestdisk"
	"github.com/zclconf/go-cty/cty"
)

// A copy killed while it held a guest's disk leaves the guest writing to
// an overlay; stopping the guest puts those writes into the disk, before
// anything can boot the disk without them.
func TestGuestStopCommitsCopyOverlay(t *testing.T) {
	t.Parallel()
	m := newMachine(t)
	const sectors = 4096
	sector, err := bootsector.Counter("COUNTER READY", sectors)
	if err != nil {
		t.Fatal(err)
	}
	m.writeFile("/srv/fs1.img", append(sector, make([]byte, (sectors-1)*bootsector.Size)...))
	config := m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{
		"guest_agent": cty.True, "boot_check": check("COUNTER READY", "60s")})
	state, _, diags := m.apply(cty.NullVal(guestType), config)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	count := func() uint32 {
		b, _ := os.ReadFile(filepath.Join(m.root, "srv/fs1.img"))
		return binary.LittleEndian.Uint32(b[bootsector.CounterFirst*bootsector.Size:])
	}
	for deadline := time.Now().Add(time.Minute); count() < 100; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the guest does not count: %q", m.console())
		}
	}
	h, err := host.Config{Name: "fs2", Root: m.root}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	req := guestdisk.Request{StateDir: "/var/lib/drover/guest.serial.qemu", Disk: "/srv/fs1.img", Agent: true}
	held, err := guestdisk.Hold(t.Context(), h, req)
	if err != nil {
		t.Fatal(err)
	}
	if held.FreezeFailed == "" {
		t.Errorf("Hold = %+v: the freeze succeeded, with no agent in the guest", held)
	}
	atHold := count()
	overlay := filepath.Join(m.root, "var/lib/drover/guest.serial.qemu", filepath.Base(held.Overlay))
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if fi, err := os.Stat(overlay); err == nil && fi.Size() > 512<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the guest does not write to the overlay")
		}
	}
	// The copy is killed here: nothing releases the disk. The stop does.
	state, _, diags = m.apply(state, m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{
		"guest_agent": cty.True, "boot_check": check("COUNTER READY", "60s"), "running": cty.False}))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if _, err := os.Stat(overlay); !os.IsNotExist(err) {
		t.Errorf("the overlay is still there after the stop: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(m.root, "srv/fs1.img"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := bootsector.Counts(b)
	if err != nil {
		t.Fatalf("the disk after the stop: %v", err)
	}
	if c.First <= atHold {
		t.Errorf("the disk reaches count %d, no further than when it was held (%d): the guest's writes since are lost", c.First, atHold)
	}
	m.destroy(state)
}
