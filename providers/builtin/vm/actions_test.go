package vm

import (
	"context"
	"strings"
	"testing"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// TestGuestActionsQEMUOnly: the guest actions find a guest by QEMU's
// pidfile; a guest of another hypervisor is refused, never taken for one
// that does not run (a fence that would stop nothing).
func TestGuestActionsQEMUOnly(t *testing.T) {
	ty := stateArgs().ImpliedType()
	attrs := map[string]cty.Value{}
	for name, at := range ty.AttributeTypes() {
		attrs[name] = cty.NullVal(at)
	}
	attrs["hypervisor"] = cty.StringVal("libvirt")
	args := cty.ObjectVal(attrs)
	for name, invoke := range map[string]func(context.Context, sdk.InvokeRequest) (cty.Value, providers.Diagnostics){
		"guest_stop": invokeStop, "guest_start": invokeStart,
	} {
		t.Run(name, func(t *testing.T) {
			_, diags := invoke(context.Background(), sdk.InvokeRequest{Args: args, Progress: func(providers.Progress) {}})
			if !diags.HasErrors() || !strings.Contains(diags[0].Detail, name+` acts on QEMU guests only; the guest's hypervisor is "libvirt"`) {
				t.Errorf("diagnostics %#v, want the hypervisor refused", diags)
			}
		})
	}
}
