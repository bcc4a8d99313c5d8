package vm

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/disk"
	"github.com/drover-dr/drover/providers/builtin/vm/bootsector"
	"github.com/drover-dr/drover/providers/builtin/vm/guestdisk"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// A libvirt guest's disk held for a copy through libvirt's API: the copy
// holds one moment while the guest writes on; after the release the
// domain, live and as defined, runs on its disk again, with every write.
func TestLibvirtGuestDiskHold(t *testing.T) {
	d := newLibvirtd(t)
	m := libvirtMachine(t, d)
	name := "drover-test-" + filepath.Base(m.root)
	lv := d.client(t, name)
	const sectors = 8192
	sector, err := bootsector.Counter("FS1 COUNTING", sectors)
	if err != nil {
		t.Fatal(err)
	}
	m.writeFile("/srv/fs1.img", append(sector, make([]byte, (sectors-1)*bootsector.Size)...))
	os.Chmod(filepath.Join(m.root, "srv"), 0o755)
	config := m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{"hypervisor": cty.StringVal("libvirt"),
		"name": cty.StringVal(name), "guest_agent": cty.True, "boot_check": check("FS1 COUNTING", "60s")})
	state, _, diags := m.apply(cty.NullVal(guestType), config)
	if diags.HasErrors() {
		t.Fatalf("start: %v", diags)
	}
	destroyed := false
	defer func() {
		if !destroyed {
			m.destroy(state)
		}
	}()
	if got := state.GetAttr("libvirt_uri"); got.IsNull() || got.AsString() != d.uri {
		t.Errorf("libvirt_uri = %#v, want %q", got, d.uri)
	}
	disk := filepath.Join(m.root, "srv/fs1.img")
	count := func() uint32 {
		b, _ := os.ReadFile(disk)
		return binary.LittleEndian.Uint32(b[bootsector.CounterFirst*bootsector.Size:])
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("waited a minute for %s", what)
			}
		}
	}
	wait("the guest to count", func() bool { return count() > 100 })

	h, err := host.Config{Name: "fs2", Root: m.root}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	req := guestdisk.Request{Hypervisor: "libvirt", LibvirtURI: d.uri, Domain: name, Disk: "/srv/fs1.img", Agent: true}
	p, err := guestdisk.ProbeDisk(t.Context(), h, req)
	if err != nil || !p.Running || p.Device != "hda" {
		t.Fatalf("ProbeDisk = %+v, %v", p, err)
	}
	held, err := guestdisk.Hold(t.Context(), h, req)
	if err != nil {
		t.Fatal(err)
	}
	if held.Overlay != "/srv/.copy-fs1.img.qcow2" || !strings.Contains(held.FreezeFailed, "agent") {
		t.Errorf("Hold = %+v; want the overlay beside the disk and the freeze failed (no agent in the guest)", held)
	}
	atHold := count()
	overlay := filepath.Join(m.root, held.Overlay)
	wait("the guest to write to the overlay", func() bool {
		fi, err := os.Stat(overlay)
		return err == nil && fi.Size() > 512<<10
	})
	copied, err := os.ReadFile(disk)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bootsector.Counts(copied); err != nil || c.First != atHold {
		t.Errorf("the held disk: %+v, %v; want count %d", c, err, atHold)
	}
	if err := guestdisk.Release(t.Context(), h, req); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(overlay); !os.IsNotExist(err) {
		t.Errorf("the overlay is still there: %v", err)
	}
	dom, err := lv.DomainLookupByName(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, flags := range []libvirt.DomainXMLFlags{0, libvirt.DomainXMLInactive} {
		desc, err := lv.DomainGetXMLDesc(dom, flags)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(desc, "<source file='"+disk+"'") || strings.Contains(desc, "copy-fs1") {
			t.Errorf("the domain (XML flags %d) does not run on its disk again:\n%s", flags, desc)
		}
	}
	if st, _, err := lv.DomainGetState(dom, 0); err != nil || libvirt.DomainState(st) != libvirt.DomainRunning {
		t.Errorf("libvirt says state %d (%v) after the release", st, err)
	}
	if err := lv.DomainSuspend(dom); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(disk)
	if err != nil {
		t.Fatal(err)
	}
	c, err := bootsector.Counts(b)
	if err != nil {
		t.Fatalf("the disk after the release: %v", err)
	}
	if c.First <= atHold {
		t.Errorf("the disk reaches count %d, no further than when held (%d): the guest's writes to the overlay are lost", c.First, atHold)
	}
	if err := lv.DomainResume(dom); err != nil {
		t.Fatal(err)
	}

	// A drive_copy of the disk, source_guest the guest, does the same.
	copied = copyOfGuest(t, m, state, "/srv/fs1.img", "/srv/fs1-replica.img",
		`guest (libvirt external snapshot of the running domain "`+name+`", fs-freeze by the guest agent); crash-consistent: the guest agent did not freeze`)
	if c, err := bootsector.Counts(copied); err != nil {
		t.Errorf("the drive copy: %+v, %v", c, err)
	}
	if _, err := os.Stat(overlay); !os.IsNotExist(err) {
		t.Errorf("the overlay is still there after the drive copy: %v", err)
	}

	// Copies killed while they held the disk: the next commits the
	// overlay first; a destroy of the guest commits it too.
	held = hold(t, h, req, overlay)
	if held, err = guestdisk.Hold(t.Context(), h, req); err != nil || held.Recovered != "/srv/.copy-fs1.img.qcow2" {
		t.Fatalf("Hold after a killed copy = %+v, %v; want the overlay committed first", held, err)
	}
	hold(t, h, req, overlay)
	atKill := count()
	m.destroy(state)
	destroyed = true
	if _, err := os.Stat(overlay); !os.IsNotExist(err) {
		t.Errorf("the overlay is still there after the destroy: %v", err)
	}
	if b, err = os.ReadFile(disk); err != nil {
		t.Fatal(err)
	}
	if c, err = bootsector.Counts(b); err != nil || c.First <= atKill {
		t.Errorf("the disk after the destroy: %+v, %v; want beyond count %d", c, err, atKill)
	}
}

// hold holds req's disk and waits until the guest wrote to the overlay,
// as a copy that is then killed.
func hold(t *testing.T, h host.Host, req guestdisk.Request, overlay string) guestdisk.Held {
	t.Helper()
	held, err := guestdisk.Hold(t.Context(), h, req)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if fi, err := os.Stat(overlay); err == nil && fi.Size() > 512<<10 {
			return held
		}
		if time.Now().After(deadline) {
			t.Fatal("the guest does not write to the overlay")
		}
	}
}

// copyOfGuest applies, with the disk provider, a drive_copy of the guest
// state's disk source to target (host paths of m, a new image of the
// same size), checks its snapshot_used begins with used and returns the
// copy.
func copyOfGuest(t *testing.T, m *machine, state cty.Value, source, target, used string) []byte {
	t.Helper()
	fi, err := os.Stat(filepath.Join(m.root, source))
	if err != nil {
		t.Fatal(err)
	}
	m.writeFile(target, nil)
	if err := os.Truncate(filepath.Join(m.root, target), fi.Size()); err != nil {
		t.Fatal(err)
	}
	p := sdk.New(disk.New())
	defer p.Close()
	res := disk.New().Resources["drive_copy"]
	v := map[string]cty.Value{}
	for name, at := range res.Schema.Block.ImpliedType().AttributeTypes() {
		v[name] = cty.NullVal(at)
	}
	v["host"], v["source"], v["target"], v["source_guest"] = m.h, cty.StringVal(source), cty.StringVal(target), state
	config := cty.ObjectVal(v)
	ty := config.Type()
	plan := p.Plan(t.Context(), providers.PlanRequest{TypeName: "drive_copy", Prior: cty.NullVal(ty), Config: config,
		Proposed: res.Schema.Block.ProposedNew(cty.NullVal(ty), config)})
	if plan.Diagnostics.HasErrors() {
		t.Fatalf("plan the drive copy: %v", plan.Diagnostics)
	}
	resp := p.Apply(t.Context(), providers.ApplyRequest{TypeName: "drive_copy", Prior: cty.NullVal(ty), Planned: plan.Planned, Config: config})
	if resp.Diagnostics.HasErrors() {
		t.Fatalf("apply the drive copy: %v", resp.Diagnostics)
	}
	if got := resp.New.GetAttr("snapshot_used").AsString(); !strings.HasPrefix(got, used) {
		t.Errorf("snapshot_used = %q, want %q", got, used)
	}
	b, err := os.ReadFile(filepath.Join(m.root, target))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
