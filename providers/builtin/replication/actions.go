package replication

import (
	"context"
	"fmt"
	"time"

	"github.com/drover-dr/drover/internal/plural"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/replication/continuous"
	"github.com/drover-dr/drover/providers/builtin/replication/mirror"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// setArg is the argument every action takes: the replication set as its
// state holds it.
var setArg = &schema.Attribute{Type: setType, Required: true,
	Description: "The replication set, as `drover state show` gives it."}

var setType = setSchema.Block.ImpliedType()

var replicateResult = cty.Object(map[string]cty.Type{
	"rounds": cty.Number, "entries": cty.Number, "bytes": cty.Number, "changes": cty.Number,
	"lag_p50": cty.Number, "lag_p99": cty.Number, "lag_max": cty.Number,
})

var verifyResult = cty.Object(map[string]cty.Type{
	"differences": cty.List(cty.String), "in_sync": cty.Bool, "repaired": cty.Bool,
})

func (pv *provider) replicateAction() *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Mirror the set whole, then follow its sources until stopped, reporting the lag.",
			Args: &schema.Block{Attributes: map[string]*schema.Attribute{
				"set": setArg,
				"rescan": {Type: cty.String, Optional: true,
					Description: "How often both sides are compared whole, e.g. \"10m\" (the default)."},
			}},
			Result: replicateResult,
		},
		Invoke: pv.replicate,
	}
}

func (pv *provider) replicate(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
	c, diags := pv.parseSet(req.Args.GetAttr("set"))
	o := continuous.Options{Report: func(s continuous.Status) {
		msg := fmt.Sprintf("lag %s, %d pending, %s (%s) sent in %s",
			formatLag(s.Lag), s.Pending, plural.Count(int(s.Entries), "entry"), mirror.FormatBytes(s.Bytes), plural.Count(s.Rounds, "round"))
		if s.Problems != nil {
			msg += "; some entries could not be mirrored (retried at the next rescan)"
		}
		req.Progress(providers.Progress{Done: s.Entries, Unit: "entries", Message: msg})
	}}
	if r := req.Args.GetAttr("rescan"); !r.IsNull() {
		d, err := time.ParseDuration(r.AsString())
		if err != nil || d <= 0 {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("rescan"), "Invalid rescan interval",
				"%q is not a duration like \"10m\" or \"1h\".", r.AsString()))
		}
		o.Rescan = d
	}
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	m, closeAll, err := c.open(ctx)
	if err != nil {
		return cty.NilVal, mirrorDiags("Cannot replicate the set", err)
	}
	defer closeAll()
	s, err := continuous.Run(ctx, m, o)
	if err != nil {
		return cty.NilVal, mirrorDiags("Replication stopped", err)
	}
	secs := func(d time.Duration) cty.Value { return cty.NumberFloatVal(d.Seconds()) }
	return cty.ObjectVal(map[string]cty.Value{
		"rounds": cty.NumberIntVal(int64(s.Rounds)), "entries": cty.NumberIntVal(s.Entries), "bytes": cty.NumberIntVal(s.Bytes),
		"changes": cty.NumberIntVal(int64(s.Changes)),
		"lag_p50": secs(s.LagP50), "lag_p99": secs(s.LagP99), "lag_max": secs(s.LagMax),
	}), nil
}

func formatLag(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return roundAge(d)
}

func (pv *provider) verifyAction() *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Compare source and target by content and list every difference; repair them on request.",
			Args: &schema.Block{Attributes: map[string]*schema.Attribute{
				"set":    setArg,
				"repair": {Type: cty.Bool, Optional: true, Description: "Mirror the differences found, then compare again."},
			}},
			Result: verifyResult,
		},
		Invoke: pv.verify,
	}
}

func (pv *provider) verify(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
	c, diags := pv.parseSet(req.Args.GetAttr("set"))
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	c.checksum = true
	repair := req.Args.GetAttr("repair")
	repairing := !repair.IsNull() && repair.True()
	// A comparison deletes nothing: only a repair is held to the set's
	// guards against a replaced source and mass deletions.
	c.allowMassDelete = c.allowMassDelete || !repairing
	m, closeAll, err := c.open(ctx)
	if err != nil {
		return cty.NilVal, mirrorDiags("Cannot verify the set", err)
	}
	defer closeAll()
	req.Progress(providers.Progress{Message: "comparing by content"})
	pl, err := m.Plan(ctx)
	if err != nil {
		return cty.NilVal, mirrorDiags("Cannot verify the set", err)
	}
	diags = append(diags, problemDiags(pl.Problems, m)...)
	differences := make([]cty.Value, 0, len(pl.Changes))
	for i := range pl.Changes {
		ch := pl.Changes[i]
		ch.Path = pairPath(m, ch.Pair, ch.Path)
		differences = append(differences, cty.StringVal(ch.String()))
	}
	repaired := false
	if repairing && !pl.Summary.Empty() {
		req.Progress(providers.Progress{Message: "repairing " + plural.Count(len(pl.Changes), "difference")})
		_, err := m.Apply(ctx, pl, func(p mirror.Progress) {
			req.Progress(providers.Progress{Done: p.Bytes, Total: p.BytesTotal, Unit: "bytes"})
		})
		if err != nil {
			return cty.NilVal, mirrorDiags("Cannot repair the set", err)
		}
		req.Progress(providers.Progress{Message: "comparing again"})
		again, err := m.Plan(ctx)
		if err != nil {
			return cty.NilVal, mirrorDiags("Cannot verify the set", err)
		}
		repaired = again.Summary.Empty()
		if !repaired {
			diags = append(diags, providers.Diagnostic{Severity: providers.Warning, Summary: "Differences remain after the repair",
				Detail: fmt.Sprintf("%s remain: the source is changing while it is verified. Verify again when it is quiet.", again.Summary)})
		}
	}
	list := cty.ListValEmpty(cty.String)
	if len(differences) > 0 {
		list = cty.ListVal(differences)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"differences": list, "in_sync": cty.BoolVal(pl.Summary.Empty() || repaired), "repaired": cty.BoolVal(repaired),
	}), diags
}
