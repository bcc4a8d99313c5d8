package executor

import (
	"context"
	"strings"
	"time"

	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/record"
	"github.com/hashicorp/hcl/v2"
)

// fromState reports whether an assertion of list is answered from the
// state (a replication set's lag, a drive copy's age): the run then plans
// its step again, over a fresh refresh, to answer it.
func fromState(list []*plan.Assertion) bool {
	for _, a := range list {
		if a.Invoke == nil {
			return true
		}
	}
	return false
}

// assert answers the assertions of s of one stage (check, precondition,
// postcondition), every one of them, and fails when one does not pass.
// Each answer goes into the record, passed or not.
func (r *runbookRun) assert(ctx context.Context, s *plan.Step, stage string, list []*plan.Assertion) ([]*record.Check, hcl.Diagnostics) {
	var checks []*record.Check
	var diags, failed hcl.Diagnostics
	for _, a := range list {
		kind := a.Kind
		if stage != "check" {
			kind = stage + " " + a.Kind
		}
		c := &record.Check{Kind: kind, Target: strings.TrimSpace(a.Target + " " + a.Expect)}
		switch {
		case a.Invoke != nil:
			res, d := r.invoke(ctx, s, *a.Invoke, nil)
			if d.HasErrors() {
				c.Detail = diagText(d)
				break
			}
			diags = append(diags, d...) // warnings
			c.Passed = res.GetAttr("passed").True()
			c.Detail = res.GetAttr("detail").AsString()
		case a.Holds != nil:
			c.Passed, c.Detail = *a.Holds, a.Detail
		}
		c.At = time.Now().UTC()
		checks = append(checks, c)
		if !c.Passed {
			failed = append(failed, stepError(s, strings.ToUpper(stage[:1])+stage[1:]+" failed", "%s %s: %s.", a.Kind, c.Target, c.Detail)...)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(failed) > 0 && stage == "precondition" {
		failed[len(failed)-1].Detail += " The step did not act."
	}
	return checks, append(diags, failed...)
}
