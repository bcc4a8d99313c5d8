package vm

import (
	"context"
	"crypto/tls"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/disk"
	"github.com/drover-dr/drover/providers/builtin/vm/bootsector"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/zclconf/go-cty/cty"
)

// vcenter is govmomi's in-process simulator of an ESXi host (one
// resource pool, one datastore) serving TLS with a self-signed
// certificate, with a client of the
// test's own to act behind Drover's back and check what Drover did.
type vcenter struct {
	url    *url.URL // with the simulator's user and password
	dsDir  string   // the folder of the datastore LocalDS_0
	client *govmomi.Client
	finder *find.Finder
}

func newVCenter(t *testing.T) *vcenter {
	t.Helper()
	model := simulator.ESX()
	model.Machine = 0
	if err := model.Create(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(model.Remove)
	model.Service.TLS = new(tls.Config)
	srv := model.Service.NewServer()
	t.Cleanup(srv.Close)
	ctx := t.Context()
	c, err := govmomi.NewClient(ctx, srv.URL, true)
	if err != nil {
		t.Fatal(err)
	}
	f := find.NewFinder(c.Client, true)
	dc, err := f.DefaultDatacenter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.SetDatacenter(dc)
	ds, err := f.Datastore(ctx, "LocalDS_0")
	if err != nil {
		t.Fatal(err)
	}
	var mds mo.Datastore
	if err := ds.Properties(ctx, ds.Reference(), []string{"summary"}, &mds); err != nil {
		t.Fatal(err)
	}
	return &vcenter{url: srv.URL, dsDir: mds.Summary.Url, client: c, finder: f}
}

// configure gives p the simulator as its vSphere server.
func (vc *vcenter) configure(t *testing.T, p providers.Provider, insecure bool) providers.Diagnostics {
	bare := *vc.url
	bare.User = nil
	pass, _ := vc.url.User.Password()
	return p.Configure(t.Context(), providers.ConfigureRequest{Config: cty.ObjectVal(map[string]cty.Value{
		"libvirt_uri":      cty.NullVal(cty.String),
		"vsphere_url":      cty.StringVal(bare.String()),
		"vsphere_user":     cty.StringVal(vc.url.User.Username()),
		"vsphere_password": cty.StringVal(pass),
		"vsphere_insecure": cty.BoolVal(insecure),
	})}).Diagnostics
}

func (vc *vcenter) vm(t *testing.T, name string) *object.VirtualMachine {
	t.Helper()
	vm, err := vc.finder.VirtualMachine(t.Context(), name)
	if _, ok := err.(*find.NotFoundError); ok {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	return vm
}

func (vc *vcenter) powerState(t *testing.T, name string) types.VirtualMachinePowerState {
	t.Helper()
	st, err := vc.vm(t, name).PowerState(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// replicate copies source into the datastore's folder with a real
// drive_copy of the disk provider, as a configuration would.
func replicate(t *testing.T, source, target string) {
	t.Helper()
	p := sdk.New(disk.New())
	t.Cleanup(func() { p.Close() })
	ctx := context.Background()
	sch := p.Schema(ctx, providers.SchemaRequest{}).Schema.ResourceTypes["drive_copy"].Block
	attrs := map[string]cty.Value{}
	for name, a := range sch.Attributes {
		attrs[name] = cty.NullVal(a.Type)
	}
	attrs["host"] = host.Config{Name: "fs2"}.Value()
	attrs["source"], attrs["target"] = cty.StringVal(source), cty.StringVal(target)
	config := cty.ObjectVal(attrs)
	prior := cty.NullVal(config.Type())
	plan := p.Plan(ctx, providers.PlanRequest{TypeName: "drive_copy", Prior: prior, Proposed: sch.ProposedNew(prior, config), Config: config})
	if plan.Diagnostics.HasErrors() {
		t.Fatalf("drive_copy plan: %s", render(plan.Diagnostics))
	}
	if resp := p.Apply(ctx, providers.ApplyRequest{TypeName: "drive_copy", Prior: prior, Planned: plan.Planned, Config: config}); resp.Diagnostics.HasErrors() {
		t.Fatalf("drive_copy: %s", render(resp.Diagnostics))
	}
}

// TestVSphereGuest: a VM of the simulator registered on a disk Drover
// replicated into its datastore, powered on, its power state read back,
// drift, stop and destroy (which leaves the disk).
func TestVSphereGuest(t *testing.T) {
	vc := newVCenter(t)
	m := &machine{t: t, root: "/", h: host.Config{Name: "fs2"}.Value(), p: sdk.New(New())}
	if diags := vc.configure(t, m.p, true); diags.HasErrors() {
		t.Fatal(render(diags))
	}

	src := filepath.Join(t.TempDir(), "fs1.img")
	b, err := bootsector.Image("FS1 READY vsphere")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, append(b, make([]byte, 64<<10-len(b))...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(vc.dsDir, "fs1"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The target drive, as the standby's operator prepares it.
	if err := os.WriteFile(filepath.Join(vc.dsDir, "fs1", "fs1.img"), make([]byte, 64<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	replicate(t, src, filepath.Join(vc.dsDir, "fs1", "fs1.img"))

	config := func(running bool, disks ...string) cty.Value {
		v := map[string]cty.Value{}
		for name, ty := range guestType.AttributeTypes() {
			v[name] = cty.NullVal(ty)
		}
		var ds []cty.Value
		for _, d := range disks {
			ds = append(ds, cty.StringVal(d))
		}
		v["host"], v["hypervisor"], v["name"] = m.h, cty.StringVal("vsphere"), cty.StringVal("fs1")
		v["disks"], v["running"], v["stop_timeout"] = cty.ListVal(ds), cty.BoolVal(running), cty.StringVal("1s")
		return cty.ObjectVal(v)
	}

	state, plan, diags := m.apply(cty.NullVal(guestType), config(true, "[LocalDS_0] fs1/fs1.img"))
	if diags.HasErrors() {
		t.Fatalf("start: %s", render(diags))
	}
	if plan.Description != `powers on the vSphere VM "fs1" from 1 disk` {
		t.Errorf("plan description %q", plan.Description)
	}
	if st := vc.powerState(t, "fs1"); st != types.VirtualMachinePowerStatePoweredOn || state.GetAttr("status").AsString() != "running" {
		t.Errorf("after the start vSphere says %s, the state %#v", st, state)
	}
	var mvm mo.VirtualMachine
	vm := vc.vm(t, "fs1")
	if err := vm.Properties(t.Context(), vm.Reference(), []string{"config.hardware.device"}, &mvm); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, d := range object.VirtualDeviceList(mvm.Config.Hardware.Device).SelectByType((*types.VirtualDisk)(nil)) {
		files = append(files, d.GetVirtualDevice().Backing.(types.BaseVirtualDeviceFileBackingInfo).GetVirtualDeviceFileBackingInfo().FileName)
	}
	if strings.Join(files, ",") != "[LocalDS_0] fs1/fs1.img" {
		t.Errorf("the VM's disks are %q", files)
	}
	if read := m.read(state); !read.RawEquals(state) {
		t.Errorf("read after start:\n%#v\nwant\n%#v", read, state)
	}

	// Drift: powered off behind Drover's back.
	task, err := vm.PowerOff(t.Context())
	if err == nil {
		err = task.Wait(t.Context())
	}
	if err != nil {
		t.Fatal(err)
	}
	read := m.read(state)
	if read.GetAttr("status").AsString() != statusStopped || read.GetAttr("running").True() {
		t.Fatalf("a VM powered off reads as %#v", read)
	}
	if state, _, diags = m.apply(read, config(true, "[LocalDS_0] fs1/fs1.img")); diags.HasErrors() {
		t.Fatalf("start after drift: %s", render(diags))
	}
	if st := vc.powerState(t, "fs1"); st != types.VirtualMachinePowerStatePoweredOn {
		t.Errorf("after the start on drift vSphere says %s", st)
	}

	// The guest actions act through vSphere too.
	if got := m.act("guest_stop", state); got != "stopped" || vc.powerState(t, "fs1") != types.VirtualMachinePowerStatePoweredOff {
		t.Errorf("guest_stop: %q, vSphere says %s", got, vc.powerState(t, "fs1"))
	}
	if got := m.act("guest_stop", state); got != "not running" {
		t.Errorf("guest_stop of a stopped guest: %q", got)
	}
	if got := m.act("guest_start", state); got != "running" || vc.powerState(t, "fs1") != types.VirtualMachinePowerStatePoweredOn {
		t.Errorf("guest_start: %q, vSphere says %s", got, vc.powerState(t, "fs1"))
	}

	state, plan, diags = m.apply(state, config(false, "[LocalDS_0] fs1/fs1.img"))
	if diags.HasErrors() {
		t.Fatalf("stop: %s", render(diags))
	}
	if st := vc.powerState(t, "fs1"); st != types.VirtualMachinePowerStatePoweredOff || plan.Description != "stops the guest: guest shutdown, vSphere powers it off after 1s" {
		t.Errorf("after the stop (%q) vSphere says %s", plan.Description, st)
	}

	m.destroy(state)
	if vc.vm(t, "fs1") != nil {
		t.Error("the VM is still registered after destroy")
	}
	if _, err := os.Stat(filepath.Join(vc.dsDir, "fs1", "fs1.img")); err != nil {
		t.Errorf("destroy took the replicated disk: %v", err)
	}

	// A copy whose target changed since (a write behind the copy's back):
	// no generation to start from, refused as for other guests.
	target := filepath.Join(vc.dsDir, "fs1", "fs1.img")
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("changed"), 4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, _, diags = m.apply(cty.NullVal(guestType), config(true, "[LocalDS_0] fs1/fs1.img"))
	if msg := render(diags); !strings.Contains(msg, "Guest not started: the disk "+target+" is a drive copy's target without a complete generation to boot") {
		t.Errorf("diagnostics:\n%s", msg)
	}
	if vc.vm(t, "fs1") != nil {
		t.Error("a VM is registered after the refused start")
	}

	// A disk that was never replicated: no VM is left behind.
	_, _, diags = m.apply(cty.NullVal(guestType), config(true, "[LocalDS_0] fs9/fs9.img"))
	if msg := render(diags); !strings.Contains(msg, "Cannot create the guest's VM") || !strings.Contains(msg, "must be on a datastore of the server already") {
		t.Errorf("diagnostics:\n%s", msg)
	}
	if vc.vm(t, "fs1") != nil {
		t.Error("a VM is registered after the failed create")
	}
}

// TestVSphereTLS: the simulator's self-signed certificate is refused
// unless vsphere_insecure asks otherwise, and the error says so without
// the password.
func TestVSphereTLS(t *testing.T) {
	vc := newVCenter(t)
	m := &machine{t: t, root: "/", h: host.Config{Name: "fs2"}.Value(), p: sdk.New(New())}
	if diags := vc.configure(t, m.p, false); diags.HasErrors() {
		t.Fatal(render(diags))
	}
	v := map[string]cty.Value{}
	for name, ty := range guestType.AttributeTypes() {
		v[name] = cty.NullVal(ty)
	}
	v["host"], v["hypervisor"], v["name"] = m.h, cty.StringVal("vsphere"), cty.StringVal("fs1")
	v["disks"] = cty.ListVal([]cty.Value{cty.StringVal("[LocalDS_0] fs1/fs1.img")})
	_, _, diags := m.apply(cty.NullVal(guestType), cty.ObjectVal(v))
	msg := render(diags)
	pass, _ := vc.url.User.Password()
	if !strings.Contains(msg, "Cannot log in to vSphere") || !strings.Contains(msg, "vsphere_insecure = true skips the check") || strings.Contains(msg, pass) {
		t.Errorf("diagnostics:\n%s", msg)
	}
}
