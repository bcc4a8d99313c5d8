package planner

import (
	"context"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Options shapes one planning run.
type Options struct {
	Providers *providers.Registry
	Mode      plan.Mode
	// Variables are the finalized input values (lang.FinalizeVariables).
	Variables   map[string]cty.Value
	Targets     []addrs.Instance
	Replace     []addrs.Instance
	SkipRefresh bool
	Parallelism int
	Hooks       Hooks
}

// Hooks hears about refresh and planning progress; the core never prints.
type Hooks interface {
	Refreshing(addr addrs.Instance)
	Refreshed(addr addrs.Instance)
	Planned(c *plan.Change)
}

// Plan computes the plan. The returned plan is non-nil whenever anything
// was planned, also with errors (then Errored is set).
func Plan(ctx context.Context, cfg *lang.Config, prior *state.State, opts Options) (*plan.Plan, hcl.Diagnostics) {
	panic("unimplemented")
}

// Validate checks cfg against the providers' schemas without state.
func Validate(ctx context.Context, cfg *lang.Config, reg *providers.Registry) hcl.Diagnostics {
	panic("unimplemented")
}

// NewFinalizer returns the executor's Finalizer for cfg, planned with opts.
func NewFinalizer(cfg *lang.Config, opts Options) *Finalizer { panic("unimplemented") }

// Finalizer re-evaluates changes at apply time; see executor.Finalizer.
type Finalizer struct{}

func (f *Finalizer) Finalize(ctx context.Context, c *plan.Change, applied *state.State) (*plan.Change, hcl.Diagnostics) {
	panic("unimplemented")
}

func (f *Finalizer) Outputs(ctx context.Context, applied *state.State) (map[string]state.Output, hcl.Diagnostics) {
	panic("unimplemented")
}
