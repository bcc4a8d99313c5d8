package replication

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/escape"
	"github.com/drover-dr/drover/internal/plural"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/replication/mirror"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

func endpointBlock(what string) schema.Block {
	return schema.Block{Attributes: map[string]*schema.Attribute{
		"host": {Type: host.Type, Required: true, Description: "The host of the " + what + " folder, e.g. host.fs1."},
		"path": {Type: cty.String, Required: true, Description: "The " + what + " folder's absolute path."},
	}}
}

var setSchema = &schema.Resource{
	Description: "Folders mirrored to a standby: each source folder's tree lands below the target folder at its own path " +
		"(fs1:/srv/repset → TARGET/srv/repset). Plan lists what a mirror would do; apply mirrors.",
	Block: &schema.Block{
		Attributes: map[string]*schema.Attribute{
			"include": {Type: cty.List(cty.String), Optional: true,
				Description: "Globs of what to mirror (`**` for any depth; a pattern without `/` matches names at any depth); everything when not set."},
			"exclude": {Type: cty.List(cty.String), Optional: true,
				Description: "Globs of what to skip: never copied, never deleted from the target."},
			"delete_orphans": {Type: cty.Bool, Optional: true,
				Description: "Delete target entries the source no longer has (false when not set)."},
			"checksum": {Type: cty.Bool, Optional: true,
				Description: "Compare files of equal size by content, not by modification time (slower: reads both sides)."},
			"preserve": {Type: cty.List(cty.String), Optional: true,
				Description: "What to keep besides the data: any of mode, owner, mtime, symlinks, hard_links; all of them when not set."},
			"bandwidth": {Type: cty.String, Optional: true,
				Description: "Cap on the data sent, e.g. \"10MiB/s\" or \"100Mbit/s\"; none when not set."},
			"triggers": {Type: cty.DynamicPseudoType, Optional: true,
				Description: "Any value; when it changes, apply mirrors the set even if nothing differed at plan time. " +
					"For files a resource applied before the set writes into its source: triggers = registry_capture.x.sha256."},
			"max_delete": {Type: cty.String, Optional: true,
				Description: "The most one mirror may delete of a source's replica: a share of its entries (\"50%\", the default) or a count (\"1000\"). More is refused unless allowed."},
			"allow_mass_delete": {Type: cty.Bool, Optional: true,
				Description: "Let through a mirror that max_delete refuses, or whose source folder was replaced (as `--allow-mass-delete` does for one run)."},
			"id": {Type: cty.String, Computed: true, Description: "TARGET_HOST:TARGET_PATH."},
			"source_ids": {Type: cty.Map(cty.String), Computed: true,
				Description: "By HOST:PATH, the identity of each source folder at the last mirror, kept in its .drover-source file: a folder put in its place is refused."},
			"pending": {Type: cty.Number, Computed: true,
				Description: "Entries that differed between source and target at the last refresh."},
			"pending_bytes": {Type: cty.Number, Computed: true, Description: "Data those entries would send."},
			"oldest_pending": {Type: cty.String, Computed: true,
				Description: "When the oldest of those changes was made (RFC 3339); null when in sync."},
			"last_mirror": {Type: cty.String, Computed: true, Description: "When the last mirror finished (RFC 3339)."},
		},
		BlockTypes: map[string]*schema.NestedBlock{
			"source": {Block: endpointBlock("source"), Nesting: schema.NestingList, MinItems: 1},
			"target": {Block: endpointBlock("target"), Nesting: schema.NestingSingle, MinItems: 1},
		},
	},
}

// configAttrs are what a mirror depends on: a change of any replans it.
var configAttrs = []string{"source", "target", "include", "exclude", "delete_orphans", "checksum", "preserve", "triggers",
	"max_delete", "allow_mass_delete"}

// computedAttrs are set by the provider.
var computedAttrs = []string{"pending", "pending_bytes", "oldest_pending", "last_mirror", "source_ids"}

func (pv *provider) setResource() *sdk.Resource {
	return &sdk.Resource{
		Schema:        setSchema,
		Validate:      validateSet,
		CustomizePlan: pv.planSet,
		Read:          pv.readSet,
		Create:        pv.mirrorSet,
		Update:        pv.mirrorSet,
		Delete:        deleteSet,
	}
}

func validateSet(ctx context.Context, config cty.Value) providers.Diagnostics {
	if !config.IsWhollyKnown() || config.IsNull() {
		return nil
	}
	_, diags := parseSet(config)
	return diags
}

func setID(v cty.Value) cty.Value {
	t := v.GetAttr("target")
	if !t.IsWhollyKnown() || t.IsNull() {
		return cty.UnknownVal(cty.String)
	}
	h, p := t.GetAttr("host"), t.GetAttr("path")
	if h.IsNull() || p.IsNull() {
		return cty.UnknownVal(cty.String)
	}
	name := h.GetAttr("name")
	if name.IsNull() {
		return cty.UnknownVal(cty.String)
	}
	return cty.StringVal(name.AsString() + ":" + p.AsString())
}

// sameConfig says whether two values configure the same mirror.
func sameConfig(a, b cty.Value) bool {
	for _, name := range configAttrs {
		if !a.GetAttr(name).RawEquals(b.GetAttr(name)) {
			return false
		}
	}
	return true
}

// planSet plans a mirror: when the prior state is in sync with an
// unchanged configuration nothing is walked; otherwise both sides are, and
// the description is the itemised dry run.
func (pv *provider) planSet(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
	p.Planned = sdk.SetAttrs(p.Planned, map[string]cty.Value{"id": setID(p.Config)})
	if !p.Config.IsWhollyKnown() {
		// Known at apply, when the set is planned again and mirrored.
		p.Planned = sdk.SetAttrs(p.Planned, unknownComputed())
		return nil
	}
	c, diags := pv.parseSet(p.Config)
	if diags.HasErrors() {
		return diags
	}
	c.sourceIDs = c.recordedIDs(p.Prior)
	if !p.Prior.IsNull() && sameConfig(p.Prior, p.Config) && isZero(p.Prior.GetAttr("pending")) {
		// In sync at the refresh: only the source folder is checked.
		_, closeAll, err := c.open(ctx)
		if err != nil {
			return append(mirrorDiags("Cannot plan the replication set", err), c.rollBackInterrupted(ctx)...)
		}
		closeAll()
		keep := map[string]cty.Value{}
		for _, name := range computedAttrs {
			keep[name] = p.Prior.GetAttr(name)
		}
		p.Planned = sdk.SetAttrs(p.Planned, keep)
		return nil
	}
	w, err := planWalk(ctx, c)
	if p.Prior.IsNull() && errors.Is(err, mirror.ErrSourceVanished) {
		// A new set whose source a resource applied before it creates (a
		// registry capture writing into it): what it mirrors is known only
		// then. Apply still refuses a source that is missing by then.
		p.Planned = sdk.SetAttrs(p.Planned, unknownComputed())
		p.Description = fmt.Sprintf("%s; the first mirror copies whatever it holds when applied", escape.Name(err.Error()))
		return diags
	}
	if err != nil {
		return append(mirrorDiags("Cannot plan the replication set", err), c.rollBackInterrupted(ctx)...)
	}
	m, pl := w.m, w.plan
	diags = append(diags, problemDiags(pl.Problems, m)...)
	// Apply mirrors whatever differs by then: what it leaves pending is
	// known only after it.
	p.Planned = sdk.SetAttrs(p.Planned, unknownComputed())
	if !pl.Summary.Empty() || p.Prior.IsNull() {
		p.Description = describe(pl, m, lastMirror(p.Prior), time.Now())
	}
	return diags
}

// unknownComputed marks every computed attribute as known only after apply.
func unknownComputed() map[string]cty.Value {
	unknown := map[string]cty.Value{}
	for _, name := range computedAttrs {
		unknown[name] = cty.UnknownVal(setSchema.Block.Attributes[name].Type)
	}
	return unknown
}

func isZero(v cty.Value) bool {
	return v.IsKnown() && !v.IsNull() && v.Equals(cty.Zero).True()
}

func lastMirror(v cty.Value) time.Time {
	if v.IsNull() {
		return time.Time{}
	}
	lm := v.GetAttr("last_mirror")
	if !lm.IsKnown() || lm.IsNull() {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, lm.AsString())
	return t
}

// readSet refreshes how far the target is behind; a set never mirrored is
// not found. A source that vanished (or another refusal of the walk) is a
// warning here, with the state kept but for pending, now unknown: the plan
// walks and stops on it.
func (pv *provider) readSet(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
	if lm := state.GetAttr("last_mirror"); !lm.IsKnown() || lm.IsNull() {
		// Never mirrored (the pending object of an interrupted apply): a
		// set exists only once a mirror of it finished, so it will be
		// created, not updated.
		return cty.NullVal(state.Type()), nil
	}
	c, diags := pv.parseSet(state)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	w, err := refreshWalk(ctx, c)
	if err != nil {
		// Not known to be in sync any more: the plan walks, and stops on it.
		state = sdk.SetAttrs(state, map[string]cty.Value{"pending": cty.NullVal(cty.Number)})
		return state, warning(mirrorDiags("Cannot refresh the replication set", err))
	}
	pl := w.plan
	oldest := cty.NullVal(cty.String)
	if pl.Summary.Oldest != 0 {
		oldest = cty.StringVal(time.Unix(0, pl.Summary.Oldest).UTC().Format(time.RFC3339Nano))
	}
	return sdk.SetAttrs(state, map[string]cty.Value{
		"id":             setID(state),
		"pending":        cty.NumberIntVal(int64(pl.Summary.Add + pl.Summary.Update + pl.Summary.Delete)),
		"pending_bytes":  cty.NumberIntVal(pl.Summary.Bytes),
		"oldest_pending": oldest,
	}), nil
}

func warning(diags providers.Diagnostics) providers.Diagnostics {
	for i := range diags {
		diags[i].Severity = providers.Warning
	}
	return diags
}

func (pv *provider) mirrorSet(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	c, diags := pv.parseSet(req.Planned)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	c.sourceIDs = c.recordedIDs(req.Prior)
	w, err := applyWalk(ctx, c)
	if err != nil {
		return cty.NilVal, mirrorDiags("Cannot mirror the replication set", err)
	}
	defer w.close()
	m := w.m
	rep, err := m.Apply(ctx, w.plan, func(p mirror.Progress) {
		req.Progress(providers.Progress{Done: p.Bytes, Total: p.BytesTotal, Unit: "bytes",
			Message: fmt.Sprintf("%d of %s", p.Files, plural.Count(p.FilesTotal, "entry"))})
	})
	if err != nil {
		return cty.NilVal, mirrorDiags("Cannot mirror the replication set", err)
	}
	// Marked after the mirror: a folder that replaces one of them later
	// lacks the marker, and is refused.
	ids, err := m.MarkSources(ctx)
	if err != nil {
		return cty.NilVal, mirrorDiags("Cannot mark the source folders", err)
	}
	pending := cty.Zero
	oldest := cty.NullVal(cty.String)
	if n := len(rep.Retry); n > 0 {
		pending = cty.NumberIntVal(int64(n))
		oldest = cty.StringVal(time.Now().UTC().Format(time.RFC3339Nano))
		diags = append(diags, providers.Diagnostic{Severity: providers.Warning, Summary: "Files changed while being copied",
			Detail: fmt.Sprintf("%s\n\nThey kept their previous copy on the target; the next apply (or `drover replicate`) mirrors them.",
				listPaths(rep.Retry, m))})
	}
	return sdk.SetAttrs(req.Planned, map[string]cty.Value{
		"id":             setID(req.Planned),
		"pending":        pending,
		"pending_bytes":  cty.Zero,
		"oldest_pending": oldest,
		"last_mirror":    cty.StringVal(time.Now().UTC().Format(time.RFC3339Nano)),
		"source_ids":     c.sourceIDsValue(ids),
	}), diags
}

// deleteSet forgets the set. The replica stays on the target: it is a
// recovery copy, removed by hand if wanted.
func deleteSet(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
	return nil
}

// mirrorDiags turns a mirror error into a diagnostic saying what to do.
// Mirror errors name files: escaped (package escape), they print safely
// and cross the plugin protocol, whose strings must be UTF-8.
func mirrorDiags(summary string, err error) providers.Diagnostics {
	var ae *mirror.ApplyError
	msg := escape.Name(err.Error())
	switch {
	case errors.Is(err, mirror.ErrSourceVanished):
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("source"), "Source folder vanished",
			"%s.\n\nNothing on the target was deleted. Mount the source again (or restore the folder), then plan again.", msg)}
	case errors.Is(err, mirror.ErrSourceReplaced):
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("source"), "Source folder replaced", "%s.", msg)}
	case errors.Is(err, mirror.ErrMassDelete):
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("max_delete"), "Too many deletions", "%s.", msg)}
	case errors.Is(err, mirror.ErrOverlap):
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("target"), "Source and target overlap", "%s.", msg)}
	case errors.Is(err, host.ErrUnreachable):
		return providers.Diagnostics{providers.Errorf("Host unreachable",
			"%s.\n\nThe mirror stopped there. Each replica file is a whole version: a file is renamed into place only once written, "+
				"and a large file cut off while updated in place is rolled back to the version it held by the next plan or apply. "+
				"Apply again once the host answers (drover hosts check tells).", msg)}
	case errors.As(err, &ae):
		// Its lines are escaped already.
		return providers.Diagnostics{providers.Errorf("Some entries could not be mirrored",
			"%s\n\nEverything else was mirrored. Fix the permissions (or free the space) and apply again.", ae)}
	}
	return providers.Diagnostics{providers.Errorf(summary, "%s.", msg)}
}

func problemDiags(problems []mirror.PathError, m *mirror.Mirror) providers.Diagnostics {
	if len(problems) == 0 {
		return nil
	}
	return providers.Diagnostics{{Severity: providers.Warning, Summary: "Entries that cannot be read",
		Detail: listPaths(problems, m) + "\n\nThey are left alone; apply fails on them until they can be read."}}
}

func listPaths(errs []mirror.PathError, m *mirror.Mirror) string {
	var b strings.Builder
	for i, pe := range errs {
		if i == maxListed {
			fmt.Fprintf(&b, "… and %d more\n", len(errs)-maxListed)
			break
		}
		fmt.Fprintf(&b, "%s: %s\n", escape.Name(pairPath(m, pe.Pair, pe.Path)), escape.Name(pe.Err.Error()))
	}
	return strings.TrimRight(b.String(), "\n")
}

const maxListed = 50

// pairPath names an entry of a pair as the source host sees it.
func pairPath(m *mirror.Mirror, pair int, rel string) string {
	p := m.Pairs()[pair].Source
	full := p.Path
	if rel != "" {
		full = strings.TrimSuffix(full, "/") + "/" + rel
	}
	return p.Host.Name() + ":" + full
}

// rollBackInterrupted rolls back, below the set's target, the updates in
// place that a crash left part-written (mirror.RollBackInterrupted). It is
// called when the set cannot be mirrored now (its source vanished, say):
// the next mirror would roll them back first, but until it comes the
// replica is all there is, and must be whole. What it did, or could not
// do, is a warning.
func (c setConfig) rollBackInterrupted(ctx context.Context) providers.Diagnostics {
	h, err := c.target.host.Open()
	if err != nil {
		return nil
	}
	defer h.Close()
	var rolled []string
	var errs []error
	for _, s := range c.sources {
		r, err := mirror.RollBackInterrupted(ctx, mirror.Endpoint{Host: h, Path: c.targetFolder(s)})
		rolled, errs = append(rolled, r...), append(errs, err)
	}
	var diags providers.Diagnostics
	if len(rolled) > 0 {
		diags = append(diags, providers.Diagnostic{Severity: providers.Warning, Summary: "Interrupted updates rolled back",
			Detail: fmt.Sprintf("On %s, a crash had left these replica files part-written, each between two versions of its source; they were rolled back whole to the version they held before:\n  %s",
				h.Name(), escape.Name(strings.Join(rolled, "\n  ")))})
	}
	if err := errors.Join(errs...); err != nil {
		diags = append(diags, providers.Diagnostic{Severity: providers.Warning, Summary: "Interrupted updates not rolled back",
			Detail: fmt.Sprintf("%s. Those replica files may hold parts of two versions until a mirror of them rolls them back.", escape.Name(err.Error()))})
	}
	return diags
}
