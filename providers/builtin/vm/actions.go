package vm

import (
	"context"
	"fmt"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// The guest actions take a vm_guest as the state holds it: a runbook's
// stop step fences the source guest with guest_stop before its replica
// starts, and failback starts it again with guest_start once the replica
// is stopped. The state's running and status are not changed by them: the
// next refresh reads the guest as it is.

// stateArgs is the guest's schema taking a whole state object: its
// computed attributes are accepted as arguments too, and ignored.
func stateArgs() *schema.Block {
	b := *guestSchema.Block
	b.Attributes = make(map[string]*schema.Attribute, len(guestSchema.Block.Attributes))
	for name, a := range guestSchema.Block.Attributes {
		arg := *a
		if arg.Computed && !arg.Required {
			arg.Optional = true
		}
		b.Attributes[name] = &arg
	}
	return &b
}

func stopAction(s *settings) *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Stops a vm_guest as the state holds it, as running = false would: the guest is asked to shut down (ACPI, or VMware Tools), then QEMU quits or is killed, libvirt or vSphere powers it off. A guest that does not run is left as it is.",
			Args:        stateArgs(),
			Result:      cty.String,
		},
		Invoke: func(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
			return invokeStop(ctx, s, req)
		},
	}
}

func startAction(s *settings) *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Starts a vm_guest as the state holds it, as running = true would, complete when its boot check passes.",
			Args:        stateArgs(),
			Result:      cty.String,
		},
		Invoke: func(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
			return invokeStart(ctx, s, req)
		},
	}
}

// Results of the actions.
var (
	resultStopped    = cty.StringVal("stopped")
	resultNotRunning = cty.StringVal("not running")
	resultRunning    = cty.StringVal("running")
)

// invokeStop stops the guest on its own hypervisor, found there as it is
// now: a guest it does not know counts as not running only where the
// hypervisor itself says so (no pidfile, no domain, no VM).
func invokeStop(ctx context.Context, s *settings, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
	stopping := func() { req.Progress(providers.Progress{Message: "stopping the guest"}) }
	switch hypervisor(req.Args) {
	case "libvirt":
		lg, diags := openDomain(ctx, s, req.Args)
		if diags.HasErrors() {
			return cty.NilVal, diags
		}
		defer lg.Close()
		dom, ok, err := lg.lookup()
		if err != nil {
			return cty.NilVal, guestErr("Cannot read the guest's domain", err)
		}
		if !ok {
			return resultNotRunning, nil
		}
		if st, err := lg.status(dom); err != nil {
			return cty.NilVal, guestErr("Cannot read the guest's domain", err)
		} else if st == statusStopped {
			return resultNotRunning, nil
		}
		stopping()
		if err := lg.stop(ctx, dom); err != nil {
			return cty.NilVal, guestErr("Cannot stop the guest", err)
		}
		return resultStopped, nil
	case "vsphere":
		vg, diags := openVSphere(ctx, s, req.Args)
		if diags.HasErrors() {
			return cty.NilVal, diags
		}
		defer vg.Close(ctx)
		vm, err := vg.lookup(ctx)
		if err != nil {
			return cty.NilVal, guestErr("Cannot read the guest's VM", err)
		}
		if vm == nil {
			return resultNotRunning, nil
		}
		if st, err := vg.status(ctx, vm); err != nil {
			return cty.NilVal, guestErr("Cannot read the guest's VM", err)
		} else if st == statusStopped {
			return resultNotRunning, nil
		}
		stopping()
		if err := vg.stop(ctx, vm); err != nil {
			return cty.NilVal, guestErr("Cannot stop the guest", err)
		}
		return resultStopped, nil
	}
	in, diags := open(ctx, req.Args)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer in.Close()
	if pid, err := in.pid(ctx); err != nil {
		return cty.NilVal, guestErr("Cannot ask for the guest's QEMU", err)
	} else if pid == 0 {
		return resultNotRunning, nil
	}
	stopping()
	if err := in.stop(ctx); err != nil {
		return cty.NilVal, guestErr("Cannot stop the guest", err)
	}
	return resultStopped, nil
}

// invokeStart starts the guest on its own hypervisor. A libvirt domain or
// vSphere VM that is gone is not made anew: that is an apply's work, with
// its plan.
func invokeStart(ctx context.Context, s *settings, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
	switch hypervisor(req.Args) {
	case "libvirt":
		lg, diags := openDomain(ctx, s, req.Args)
		if diags.HasErrors() {
			return cty.NilVal, diags
		}
		defer lg.Close()
		dom, ok, err := lg.lookup()
		switch {
		case err != nil:
			return cty.NilVal, guestErr("Cannot read the guest's domain", err)
		case !ok:
			return cty.NilVal, guestErr("Guest not found", fmt.Errorf("libvirt has no domain %q; apply the guest's configuration to define it anew", lg.g.name))
		}
		if _, diags := lg.start(ctx, dom, req.Progress); diags.HasErrors() {
			return cty.NilVal, diags
		}
		return resultRunning, nil
	case "vsphere":
		vg, diags := openVSphere(ctx, s, req.Args)
		if diags.HasErrors() {
			return cty.NilVal, diags
		}
		defer vg.Close(ctx)
		vm, err := vg.lookup(ctx)
		switch {
		case err != nil:
			return cty.NilVal, guestErr("Cannot read the guest's VM", err)
		case vm == nil:
			return cty.NilVal, guestErr("Guest not found", fmt.Errorf("vSphere has no VM %q; apply the guest's configuration to create it anew", vg.g.name))
		}
		if diags := vg.start(ctx, vm, req.Progress); diags.HasErrors() {
			return cty.NilVal, diags
		}
		return resultRunning, nil
	}
	in, diags := open(ctx, req.Args)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer in.Close()
	if _, diags := in.start(ctx, req.Progress); diags.HasErrors() {
		return cty.NilVal, diags
	}
	return resultRunning, nil
}
