package executor

import (
	"context"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
)

// Options shapes one apply.
type Options struct {
	Providers   *providers.Registry
	Journal     state.Journal
	Parallelism int
	Hooks       Hooks
	// Finalizer resolves values only known after apply; the planner's
	// planner.NewFinalizer provides it.
	Finalizer Finalizer
}

// Finalizer completes a planned change once everything it depends on has
// been applied: it re-evaluates the configuration with the applied values
// and re-plans, refusing a result that contradicts what was planned.
type Finalizer interface {
	Finalize(ctx context.Context, c *plan.Change, applied *state.State) (*plan.Change, hcl.Diagnostics)
	// Outputs evaluates the root outputs over the final state.
	Outputs(ctx context.Context, applied *state.State) (map[string]state.Output, hcl.Diagnostics)
	// Import finds again the object an import block names, for a saved
	// plan that imports it.
	Import(ctx context.Context, addr addrs.Instance, id string) (*state.Instance, hcl.Diagnostics)
}

// Hooks hears about each change as it runs.
type Hooks interface {
	Started(addr addrs.Instance, action plan.Action)
	Progress(addr addrs.Instance, p providers.Progress)
	Finished(addr addrs.Instance, action plan.Action, diags hcl.Diagnostics)
}
