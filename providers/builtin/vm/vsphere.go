package vm

import (
	"context"
	"fmt"
	"net"
	"path"
	"strings"
	"time"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/zclconf/go-cty/cty"
)

// vsphereGuest is a guest as a VM of the provider's vSphere server.
type vsphereGuest struct {
	g      *guest
	client *govmomi.Client
	finder *find.Finder
}

// openVSphere parses v and logs in to the provider's vSphere server.
func openVSphere(ctx context.Context, s *settings, v cty.Value) (*vsphereGuest, providers.Diagnostics) {
	g, diags := parseGuest(v)
	if diags.HasErrors() {
		return nil, diags
	}
	if s.vsphere == nil {
		return nil, providers.Diagnostics{providers.Errorf("No vSphere server",
			"A vSphere guest needs the server in the provider \"vm\" block: vsphere_url, vsphere_user and vsphere_password.")}
	}
	c, err := govmomi.NewClient(ctx, s.vsphere, s.vsphereInsecure)
	if err != nil {
		hint := ""
		if !s.vsphereInsecure {
			hint = " For a server whose certificate this machine does not trust, vsphere_insecure = true skips the check."
		}
		return nil, providers.Diagnostics{providers.Errorf("Cannot log in to vSphere",
			"%s (user %q): %s.%s", s.vsphere.Redacted(), s.vsphere.User.Username(), err, hint)}
	}
	f := find.NewFinder(c.Client, true)
	dc, err := f.DefaultDatacenter(ctx)
	if err != nil {
		c.Logout(ctx)
		return nil, guestErr("Cannot find the vSphere datacenter", err)
	}
	f.SetDatacenter(dc)
	return &vsphereGuest{g: g, client: c, finder: f}, nil
}

func (vg *vsphereGuest) Close(ctx context.Context) {
	vg.client.Logout(context.WithoutCancel(ctx))
}

// lookup finds the guest's VM; nil when vSphere has none of that name.
func (vg *vsphereGuest) lookup(ctx context.Context) (*object.VirtualMachine, error) {
	vm, err := vg.finder.VirtualMachine(ctx, vg.g.name)
	if _, ok := err.(*find.NotFoundError); ok {
		return nil, nil
	}
	return vm, err
}

// powerStatus names a VM's power state as vm_guest's status does.
func powerStatus(st types.VirtualMachinePowerState) string {
	switch st {
	case types.VirtualMachinePowerStatePoweredOn:
		return "running"
	case types.VirtualMachinePowerStateSuspended:
		return "suspended"
	}
	return statusStopped
}

func (vg *vsphereGuest) status(ctx context.Context, vm *object.VirtualMachine) (string, error) {
	st, err := vm.PowerState(ctx)
	if err != nil {
		return "", fmt.Errorf("vSphere VM %q: %w", vg.g.name, err)
	}
	return powerStatus(st), nil
}

func readVSphere(ctx context.Context, s *settings, state cty.Value) (cty.Value, providers.Diagnostics) {
	vg, diags := openVSphere(ctx, s, state)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer vg.Close(ctx)
	vm, err := vg.lookup(ctx)
	switch {
	case err != nil:
		return cty.NilVal, guestErr("Cannot read the guest's VM", err)
	case vm == nil:
		return cty.NullVal(state.Type()), nil
	}
	st, err := vg.status(ctx, vm)
	if err != nil {
		return cty.NilVal, guestErr("Cannot read the guest's VM", err)
	}
	return sdk.SetAttrs(state, map[string]cty.Value{"status": cty.StringVal(st), "running": cty.BoolVal(st == "running")}), nil
}

// createVSphere registers the guest's VM on its disks, which are on a
// datastore already (replicated there), and powers it on when it is to
// run. A VM of that name that exists already is not taken over.
func createVSphere(ctx context.Context, s *settings, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	vg, diags := openVSphere(ctx, s, req.Planned)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer vg.Close(ctx)
	if vm, err := vg.lookup(ctx); err != nil {
		return cty.NilVal, guestErr("Cannot read the guest's VM", err)
	} else if vm != nil {
		return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("name"), "VM exists",
			"vSphere has a VM named %q already; Drover does not take over a VM it did not create. Give the guest another name.", vg.g.name)}
	}
	vm, err := vg.create(ctx)
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("disks"), "Cannot create the guest's VM",
			"%s. Its disks must be on a datastore of the server already, e.g. replicated there.", err)}
	}
	attrs := map[string]cty.Value{"status": cty.StringVal(statusStopped), "pid": cty.NullVal(cty.Number),
		"accelerator_in_use": cty.NullVal(cty.String), "state_dir": cty.NullVal(cty.String)}
	if vg.g.running {
		if diags := vg.start(ctx, vm, req.Progress); diags.HasErrors() {
			// No guest was created: its VM goes too, its disks stay.
			if err := vm.Unregister(context.WithoutCancel(ctx)); err != nil {
				diags = append(diags, providers.Errorf("VM left registered",
					"The VM %q could not be unregistered after the failed start: %s. Remove it from the inventory by hand.", vg.g.name, err))
			}
			return cty.NilVal, diags
		}
		attrs["status"] = cty.StringVal("running")
	}
	return sdk.SetAttrs(req.Planned, attrs), nil
}

// create registers a VM whose disks are the guest's existing datastore
// files, on the IDE controllers every VM has (200 and 201), in order.
func (vg *vsphereGuest) create(ctx context.Context) (*object.VirtualMachine, error) {
	var first object.DatastorePath
	first.FromString(vg.g.disks[0])
	folder, err := vg.finder.DefaultFolder(ctx)
	if err != nil {
		return nil, err
	}
	pool, err := vg.finder.DefaultResourcePool(ctx)
	if err != nil {
		return nil, err
	}
	spec := types.VirtualMachineConfigSpec{
		Name: vg.g.name, GuestId: string(types.VirtualMachineGuestOsIdentifierOtherGuest64),
		MemoryMB: vg.g.memoryMiB, NumCPUs: int32(vg.g.cpus),
		Annotation: "Defined by Drover (vm_guest).",
		Files:      &types.VirtualMachineFileInfo{VmPathName: fmt.Sprintf("[%s]", first.Datastore)},
	}
	mode := types.VirtualDiskModePersistent
	if vg.g.snapshot {
		mode = types.VirtualDiskModeNonpersistent
	}
	for i, d := range vg.g.disks {
		unit := int32(i % 2)
		disk := &types.VirtualDisk{VirtualDevice: types.VirtualDevice{
			Key: int32(-1 - i), ControllerKey: int32(200 + i/2), UnitNumber: &unit,
			Backing: &types.VirtualDiskFlatVer2BackingInfo{
				VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: d},
				DiskMode:                     string(mode),
			},
		}}
		spec.DeviceChange = append(spec.DeviceChange, &types.VirtualDeviceConfigSpec{
			Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: disk})
	}
	task, err := folder.CreateVM(ctx, spec, pool, nil)
	if err != nil {
		return nil, err
	}
	info, err := task.WaitForResult(ctx)
	if err != nil {
		return nil, err
	}
	return object.NewVirtualMachine(vg.client.Client, info.Result.(types.ManagedObjectReference)), nil
}

func updateVSphere(ctx context.Context, s *settings, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	vg, diags := openVSphere(ctx, s, req.Planned)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer vg.Close(ctx)
	vm, err := vg.lookup(ctx)
	switch {
	case err != nil:
		return cty.NilVal, guestErr("Cannot read the guest's VM", err)
	case vm == nil:
		return cty.NilVal, guestErr("Guest not found", fmt.Errorf("vSphere has no VM %q any more; run plan again to create it anew", vg.g.name))
	}
	attrs := map[string]cty.Value{}
	wasRunning := req.Prior.GetAttr("status").RawEquals(cty.StringVal("running"))
	switch {
	case vg.g.running && !wasRunning:
		if diags := vg.start(ctx, vm, req.Progress); diags.HasErrors() {
			return cty.NilVal, diags
		}
		attrs["status"] = cty.StringVal("running")
	case !vg.g.running && wasRunning:
		if err := vg.stop(ctx, vm); err != nil {
			return cty.NilVal, guestErr("Cannot stop the guest", err)
		}
		attrs["status"] = cty.StringVal(statusStopped)
	}
	return sdk.SetAttrs(req.Planned, attrs), nil
}

// start powers the VM on (a suspended one resumes) and waits for the TCP
// boot check; a VM that fails it is powered off again.
func (vg *vsphereGuest) start(ctx context.Context, vm *object.VirtualMachine, progress func(providers.Progress)) providers.Diagnostics {
	if st, err := vg.status(ctx, vm); err != nil {
		return guestErr("Cannot read the guest's VM", err)
	} else if st == "running" {
		return nil
	}
	if err := vg.checkLocalDisks(ctx); err != nil {
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("disks"), "Guest not started", "%s.", err)}
	}
	progress(providers.Progress{Message: "powering on vSphere VM " + vg.g.name})
	task, err := vm.PowerOn(ctx)
	if err == nil {
		_, err = task.WaitForResult(ctx)
	}
	if err != nil {
		return guestErr("Cannot power on the guest", err)
	}
	c := vg.g.check
	if c == nil {
		return nil
	}
	progress(providers.Progress{Message: "waiting for " + c.String()})
	if err := awaitPort(ctx, c); err != nil {
		ended := "The VM was powered off again."
		if serr := vg.powerOff(context.WithoutCancel(ctx), vm); serr != nil {
			ended = fmt.Sprintf("Powering it off failed too: %s.", serr)
		}
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("boot_check"), "Guest failed its boot check", "%s. %s", err, ended)}
	}
	return nil
}

// awaitPort polls until c's TCP port accepts, within c's timeout.
func awaitPort(ctx context.Context, c *bootCheck) error {
	deadline := time.Now().Add(c.timeout)
	for {
		d := net.Dialer{Timeout: time.Second}
		if conn, err := d.DialContext(ctx, "tcp", c.tcp); err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("boot check %s: not passed within %s", c, c.timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop asks the guest to shut down (VMware Tools) and powers the VM off
// when it is not off within stop_timeout, or cannot be asked.
func (vg *vsphereGuest) stop(ctx context.Context, vm *object.VirtualMachine) error {
	if err := vm.ShutdownGuest(ctx); err == nil {
		deadline := time.Now().Add(vg.g.stopTimeout)
		for time.Now().Before(deadline) {
			if st, err := vg.status(ctx, vm); err == nil && st == statusStopped {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return vg.powerOff(ctx, vm)
}

func (vg *vsphereGuest) powerOff(ctx context.Context, vm *object.VirtualMachine) error {
	if st, err := vg.status(ctx, vm); err != nil || st == statusStopped {
		return err
	}
	task, err := vm.PowerOff(ctx)
	if err == nil {
		_, err = task.WaitForResult(ctx)
	}
	if err != nil {
		return fmt.Errorf("vSphere VM %q: %w", vg.g.name, err)
	}
	return nil
}

// deleteVSphere stops the guest and unregisters its VM: its files, the
// replicated disks among them, stay on the datastore (a destroy of the
// VM would delete them).
func deleteVSphere(ctx context.Context, s *settings, req sdk.ApplyRequest) providers.Diagnostics {
	vg, diags := openVSphere(ctx, s, req.Prior)
	if diags.HasErrors() {
		return diags
	}
	defer vg.Close(ctx)
	vm, err := vg.lookup(ctx)
	switch {
	case err != nil:
		return guestErr("Cannot read the guest's VM", err)
	case vm == nil:
		return nil
	}
	if err := vg.stop(ctx, vm); err != nil {
		return guestErr("Cannot stop the guest", err)
	}
	if err := vm.Unregister(ctx); err != nil {
		return guestErr("Cannot unregister the guest's VM", err)
	}
	return nil
}

// checkLocalDisks refuses, as for other guests, disks that are drive copy
// targets without a complete generation, where the guest's host sees
// them: a datastore whose URL is a folder of this machine below the
// host's root (an NFS datastore mounted here, the simulator's). Disks on
// other datastores are vSphere's to check.
func (vg *vsphereGuest) checkLocalDisks(ctx context.Context) error {
	h, err := vg.g.host.Open()
	if err != nil {
		return err
	}
	defer h.Close()
	if h.Machine() != "local" {
		return nil
	}
	root, err := h.RealPath(ctx, "/")
	if err != nil {
		return err
	}
	var local []string
	for _, d := range vg.g.disks {
		var dp object.DatastorePath
		dp.FromString(d)
		ds, err := vg.finder.Datastore(ctx, dp.Datastore)
		if err != nil {
			return fmt.Errorf("the disk %s: %w", d, err)
		}
		var mds mo.Datastore
		if err := ds.Properties(ctx, ds.Reference(), []string{"summary"}, &mds); err != nil {
			return fmt.Errorf("the disk %s: %w", d, err)
		}
		if !path.IsAbs(mds.Summary.Url) {
			continue
		}
		machine := path.Join(mds.Summary.Url, dp.Path)
		rel, ok := strings.CutPrefix(machine, strings.TrimSuffix(root, "/")+"/")
		if !ok {
			continue
		}
		local = append(local, "/"+rel)
	}
	return checkDisks(ctx, h, local)
}
