package planner

import (
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
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
	// PlanTime is when the plan was made, for plantimestamp(): Plan sets
	// the plan's Timestamp from it (now, when zero), and applying that plan
	// passes the plan's Timestamp back here for the Finalizer.
	PlanTime time.Time
	// Runbook, when set, makes Plan plan that runbook's run (mode
	// plan.RunbookMode) instead of the configuration's changes.
	Runbook *RunbookRequest
}

// Hooks hears about refresh and planning progress; the core never prints.
type Hooks interface {
	Refreshing(addr addrs.Instance)
	Refreshed(addr addrs.Instance)
	Planned(c *plan.Change)
}
