package vm

import (
	"github.com/drover-dr/drover/providers"
	"github.com/zclconf/go-cty/cty"
)

// act invokes the guest action name on the guest as state holds it and
// returns its result; the guest's own hypervisor tests call it, for each
// hypervisor acts through its own.
func (m *machine) act(name string, state cty.Value) string {
	m.t.Helper()
	resp := m.p.Invoke(m.t.Context(), providers.InvokeRequest{Action: name, Args: state, Progress: func(providers.Progress) {}})
	if resp.Diagnostics.HasErrors() {
		m.t.Fatalf("%s: %s", name, render(resp.Diagnostics))
	}
	return resp.Result.AsString()
}
