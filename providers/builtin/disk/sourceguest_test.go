package disk

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/vm"
	"github.com/drover-dr/drover/providers/builtin/vm/bootsector"
	"github.com/drover-dr/drover/providers/builtin/vm/guestdisk"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// runGuest starts, with the vm provider, a QEMU guest of this machine
// booting disk and returns its state, the value source_guest refers to.
func runGuest(t *testing.T, dir, disk, marker string, attrs map[string]cty.Value) cty.Value {
	t.Helper()
	testenv.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	testenv.Command(t, "qemu-img", "qemu-utils")
	p := sdk.New(vm.New())
	ty := vm.New().Resources["vm_guest"].Schema.Block.ImpliedType()
	v := map[string]cty.Value{}
	for name, at := range ty.AttributeTypes() {
		v[name] = cty.NullVal(at)
	}
	v["host"], v["disks"] = localHost, cty.ListVal([]cty.Value{cty.StringVal(disk)})
	v["serial"], v["memory"] = cty.StringVal(filepath.Join(dir, "fs1.serial")), cty.StringVal("16MiB")
	v["accelerator"], v["stop_timeout"] = cty.StringVal("tcg"), cty.StringVal("1s")
	v["boot_check"] = cty.ObjectVal(map[string]cty.Value{"serial": cty.StringVal(marker), "tcp": cty.NullVal(cty.String), "timeout": cty.StringVal("60s")})
	for k, a := range attrs {
		v[k] = a
	}
	config := cty.ObjectVal(v)
	ctx := context.Background()
	plan := p.Plan(ctx, providers.PlanRequest{TypeName: "vm_guest", Prior: cty.NullVal(ty), Config: config,
		Proposed: vm.New().Resources["vm_guest"].Schema.Block.ProposedNew(cty.NullVal(ty), config)})
	if plan.Diagnostics.HasErrors() {
		t.Fatalf("plan the guest: %s", render(plan.Diagnostics))
	}
	resp := p.Apply(ctx, providers.ApplyRequest{TypeName: "vm_guest", Prior: cty.NullVal(ty), Planned: plan.Planned})
	if resp.Diagnostics.HasErrors() {
		t.Fatalf("start the guest: %s", render(resp.Diagnostics))
	}
	t.Cleanup(func() {
		if d := p.Apply(ctx, providers.ApplyRequest{TypeName: "vm_guest", Prior: resp.New, Planned: cty.NullVal(ty)}).Diagnostics; d.HasErrors() {
			t.Errorf("stop the guest: %s", render(d))
		}
		p.Close()
	})
	return resp.New
}

func TestCopyOfRunningGuest(t *testing.T) {
	// Short: the guest's QMP socket lives below it.
	dir, err := os.MkdirTemp("", "cg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	const sectors = 8192
	sector, err := bootsector.Counter("FS1 COUNTING", sectors)
	if err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(dir, "fs1.img")
	target := image(t, dir, "fs1-replica.img", sectors*bootsector.Size)
	count := func() uint32 {
		b, _ := os.ReadFile(disk)
		return binary.LittleEndian.Uint32(b[bootsector.CounterFirst*bootsector.Size:])
	}

	for _, tc := range []struct {
		name  string
		guest map[string]cty.Value
		used  string
	}{
		{"crash-consistent", nil, `guest (QMP external snapshot of the running guest "fs1", crash-consistent: it has no guest agent (guest_agent))`},
		{"agent that does not answer", map[string]cty.Value{"guest_agent": cty.True},
			`guest (QMP external snapshot of the running guest "fs1", fs-freeze by the guest agent); crash-consistent: the guest agent did not freeze`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh disk: the guest counts from 0 at each boot, and ring
			// sectors left by an earlier case's guest that counted further
			// would read as a copy of no one moment.
			if err := os.WriteFile(disk, append(sector, make([]byte, (sectors-1)*bootsector.Size)...), 0o600); err != nil {
				t.Fatal(err)
			}
			guest := runGuest(t, dir, disk, "FS1 COUNTING", tc.guest)
			for deadline := time.Now().Add(time.Minute); count() < 100; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the guest does not count")
				}
			}
			os.Remove(target + ".blocks")
			state, desc := mustApply(t, provider(t), cty.NilVal, copyValue(map[string]cty.Value{
				"source": cty.StringVal(disk), "target": cty.StringVal(target), "source_guest": guest}))
			if want := "point-in-time view: " + strings.SplitN(tc.used, ";", 2)[0]; !strings.Contains(desc, want) {
				t.Errorf("plan %q, want it to say %q", desc, want)
			}
			if used := snapshotUsed(state); !strings.HasPrefix(used, tc.used) {
				t.Errorf("snapshot_used = %q, want %q", used, tc.used)
			}
			if c, err := bootsector.Counts(read(t, target)); err != nil {
				t.Errorf("the copy does not hold one moment of the guest's disk: %v", err)
			} else if c.First < 100 {
				t.Errorf("the copy reaches count %d only", c.First)
			}
			// The guest runs on, on its own disk again.
			p, err := guestdisk.ProbeDisk(t.Context(), localOpen(t), guestdisk.Request{StateDir: guest.GetAttr("state_dir").AsString(), Disk: disk})
			if err != nil || !p.Running || p.Throwaway {
				t.Errorf("after the copy, ProbeDisk = %+v, %v", p, err)
			}
			if left, _ := filepath.Glob(filepath.Join(guest.GetAttr("state_dir").AsString(), guestdisk.OverlayPrefix+"*")); len(left) > 0 {
				t.Errorf("overlays left: %v", left)
			}
			before := count()
			for deadline := time.Now().Add(time.Minute); count() <= before; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the guest no longer writes to its disk")
				}
			}
		})
	}
}

func TestSourceGuestRefused(t *testing.T) {
	dir := t.TempDir()
	src := image(t, dir, "a.img", 1<<20)
	target := image(t, dir, "b.img", 1<<20)
	notGuest := cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("fs1")})
	guestOf := func(hypervisor string, disks ...string) cty.Value {
		v := map[string]cty.Value{}
		for name, at := range vm.New().Resources["vm_guest"].Schema.Block.ImpliedType().AttributeTypes() {
			v[name] = cty.NullVal(at)
		}
		var ds []cty.Value
		for _, d := range disks {
			ds = append(ds, cty.StringVal(d))
		}
		v["host"], v["hypervisor"], v["name"], v["disks"] = localHost, cty.StringVal(hypervisor), cty.StringVal("fs1"), cty.ListVal(ds)
		v["state_dir"], v["running"] = cty.StringVal(dir), cty.True
		return cty.ObjectVal(v)
	}
	for _, tc := range []struct {
		name  string
		attrs map[string]cty.Value
		want  string
	}{
		{"guest without source_guest", map[string]cty.Value{"snapshot": cty.StringVal("guest")}, "needs the guest whose disk the source is"},
		{"not a guest", map[string]cty.Value{"source_guest": notGuest}, "must be a vm_guest"},
		{"not its disk", map[string]cty.Value{"source_guest": guestOf("qemu", "/srv/other.img")},
			"the source " + src + ` is not a disk of the source guest "fs1" (qemu on host "fs1"), whose disks are /srv/other.img`},
		{"libvirt without its connection", map[string]cty.Value{"source_guest": guestOf("libvirt", src)},
			`the source guest "fs1" (libvirt on host "fs1") has no libvirt_uri in its state: apply its vm_guest first`},
		{"vsphere", map[string]cty.Value{"source_guest": guestOf("vsphere", "[datastore1] fs1/system.img")},
			`the source guest "fs1" (vsphere on host "fs1") is a vSphere VM`},
		{"configured none", map[string]cty.Value{"source_guest": guestOf("libvirt", src), "snapshot": cty.StringVal("none")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attrs := map[string]cty.Value{"source": cty.StringVal(src), "target": cty.StringVal(target)}
			for k, v := range tc.attrs {
				attrs[k] = v
			}
			config := copyValue(attrs)
			diags := provider(t).Validate(context.Background(), providers.ValidateRequest{Kind: providers.KindResource, TypeName: "drive_copy", Config: config}).Diagnostics
			if !diags.HasErrors() {
				_, _, diags = planApply(t, provider(t), cty.NilVal, config)
			}
			if got := render(diags); tc.want == "" && diags.HasErrors() || !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics %q, want %q", got, tc.want)
			}
		})
	}
}

func localOpen(t *testing.T) host.Host {
	h, err := host.Config{Name: "fs1"}.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}
