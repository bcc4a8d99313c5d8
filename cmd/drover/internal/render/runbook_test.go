package render

import (
	"bytes"
	"testing"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/planner/plan"
)

// TestRunbookDescribed: a step holding resources shows under it what their
// providers say the creation does, part by part, and a failback what their
// destruction gives back; escaped as plans are.
func TestRunbookDescribed(t *testing.T) {
	identity := addrs.Instance{Resource: addrs.Resource{Mode: addrs.Managed, Type: "network_identity", Name: "fs1"}}
	marker := addrs.Instance{Resource: addrs.Resource{Mode: addrs.Managed, Type: "file", Name: "marker"}}
	for _, tc := range []struct {
		name string
		rb   *plan.Runbook
	}{
		{"runbook-step-resources.txt", &plan.Runbook{Name: "failover", Kind: "failover", Steps: []*plan.Step{
			{Name: "pre", Summary: "run true on fs2"},
			{Name: "identity", Wave: 1, Summary: "hold + network_identity.fs1", Changes: []*plan.Change{{Addr: identity, Action: plan.Create,
				Description: "take over the identity on fs2:\n+ 192.0.2.10/24 on fs2:eth0 (announce)\n+ share da\x1b[2Kta on fs2: /srv/data (read-only)"}}},
			{Name: "both", Wave: 2, Summary: "hold + network_identity.fs1, + file.marker", Changes: []*plan.Change{
				{Addr: identity, Action: plan.Create, Description: "take over the identity on fs2:\n+ host name fs1 on fs2"},
				{Addr: marker, Action: plan.Create}}},
		}}},
		{"runbook-release-described.txt", &plan.Runbook{Name: "failback", Kind: "failback", Steps: []*plan.Step{},
			Release: []*plan.Release{{Runbook: "failover", Step: "identity", Summary: "destroy network_identity.fs1", Destroy: []*plan.Change{
				{Addr: identity, Action: plan.Delete, Description: "give the identity back on fs2:\n- share data on fs2\n- 192.0.2.10/24 on fs2:eth0"}}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			Runbook(&out, tc.rb, Options{})
			golden(t, tc.name, out.String())
		})
	}
}
