package vm

import (
	"context"

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

func stopAction() *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Stops a vm_guest as the state holds it, as running = false would: the ACPI power button, then QMP quit, then SIGKILL. A guest that does not run is left as it is.",
			Args:        stateArgs(),
			Result:      cty.String,
		},
		Invoke: invokeStop,
	}
}

func startAction() *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Starts a vm_guest as the state holds it, as running = true would, complete when its boot check passes.",
			Args:        stateArgs(),
			Result:      cty.String,
		},
		Invoke: invokeStart,
	}
}

// qemuOnly refuses a guest of another hypervisor: the actions find the
// guest by QEMU's pidfile and QMP socket, and would take any other for a
// guest that does not run, a fence that stops nothing.
func qemuOnly(v cty.Value, action string) providers.Diagnostics {
	if h := v.GetAttr("hypervisor"); !h.IsNull() && h.AsString() != "qemu" {
		return providers.Diagnostics{providers.Errorf("Hypervisor not supported by "+action,
			"%s acts on QEMU guests only; the guest's hypervisor is %q. Stop or start it with running = false or true instead.", action, h.AsString())}
	}
	return nil
}

func invokeStop(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
	if diags := qemuOnly(req.Args, "guest_stop"); diags.HasErrors() {
		return cty.NilVal, diags
	}
	in, diags := open(ctx, req.Args)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer in.Close()
	if pid, err := in.pid(ctx); err != nil {
		return cty.NilVal, guestErr("Cannot ask for the guest's QEMU", err)
	} else if pid == 0 {
		return cty.StringVal("not running"), nil
	}
	req.Progress(providers.Progress{Message: "stopping the guest"})
	if err := in.stop(ctx); err != nil {
		return cty.NilVal, guestErr("Cannot stop the guest", err)
	}
	return cty.StringVal("stopped"), nil
}

func invokeStart(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
	if diags := qemuOnly(req.Args, "guest_start"); diags.HasErrors() {
		return cty.NilVal, diags
	}
	in, diags := open(ctx, req.Args)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer in.Close()
	if _, diags := in.start(ctx, req.Progress); diags.HasErrors() {
		return cty.NilVal, diags
	}
	return cty.StringVal("running"), nil
}
