package vm

import (
	"context"
	"fmt"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// A replica guest names the guest it replaces with source_guest =
// vm_guest.NAME. Before the replica starts, the source guest is asked
// where it runs, live, on its own host and hypervisor: two copies of one
// server on one network is split-brain, so a source that still runs (or
// is paused, and could be continued) refuses the start unless force =
// true. A configuration fences the source by setting its running =
// false: the replica depends on it, so the stop is applied first.

// checkFence refuses req's start while its source guest runs; with force
// it warns instead. Nothing is checked when req starts nothing.
func checkFence(ctx context.Context, s *settings, req sdk.ApplyRequest) providers.Diagnostics {
	src := req.Planned.GetAttr("source_guest")
	if src.IsNull() || !wantsRunning(req.Planned) ||
		(!req.Prior.IsNull() && req.Prior.GetAttr("status").RawEquals(cty.StringVal("running"))) {
		return nil
	}
	at := cty.GetAttrPath("source_guest")
	if !isGuestValue(src) {
		return providers.Diagnostics{providers.AttrErrorf(at, "Invalid source guest",
			"source_guest must be the vm_guest this guest replaces, like source_guest = vm_guest.fs1.")}
	}
	where, runs, err := sourceRuns(ctx, s, src)
	force := req.Planned.GetAttr("force").True()
	switch {
	case err != nil && !force:
		return providers.Diagnostics{providers.AttrErrorf(at, "Source guest unknown",
			"Drover cannot tell whether the source guest %s still runs (%s), so it does not start its replica: two copies of one server would be split-brain. Make its host reachable, or set force = true once you know it is down.", where, err)}
	case err != nil:
		return providers.Diagnostics{{Severity: providers.Warning, Summary: "Source guest unknown", Path: at,
			Detail: fmt.Sprintf("Drover cannot tell whether the source guest %s still runs (%s); the replica starts because force = true.", where, err)}}
	case runs && !force:
		return providers.Diagnostics{providers.AttrErrorf(at, "Source guest still runs",
			"The source guest %s still runs, so its replica does not start: two copies of one server on one network is split-brain. Fence it first: running = false on its vm_guest (applied before this guest, which depends on it) or a stop of the runbook; or set force = true to start the replica anyway.", where)}
	case runs:
		return providers.Diagnostics{{Severity: providers.Warning, Summary: "Source guest still runs", Path: at,
			Detail: fmt.Sprintf("The source guest %s still runs; its replica starts because force = true: two copies of one server now run.", where)}}
	}
	return nil
}

// fenceDescription says, for a plan's start, that the start depends on
// the source guest being down.
func fenceDescription(config cty.Value) string {
	src := config.GetAttr("source_guest")
	if !src.IsWhollyKnown() || src.IsNull() || !isGuestValue(src) {
		return ""
	}
	name := src.GetAttr("name")
	if !name.IsKnown() || name.IsNull() {
		return ""
	}
	if config.GetAttr("force").True() {
		return fmt.Sprintf("; even if its source guest %q runs (force)", name.AsString())
	}
	return fmt.Sprintf("; refused while its source guest %q runs", name.AsString())
}

// sourceRuns asks the source guest's hypervisor whether it runs (or is
// paused); where names the guest for messages.
func sourceRuns(ctx context.Context, s *settings, src cty.Value) (where string, runs bool, err error) {
	g, diags := parseGuest(src)
	if diags.HasErrors() {
		return "", false, diagsErr(diags)
	}
	where = fmt.Sprintf("%q (%s on host %q)", g.name, g.hypervisor, g.host.Name)
	switch g.hypervisor {
	case "libvirt":
		lg, diags := openDomain(ctx, s, src)
		if diags.HasErrors() {
			return where, false, diagsErr(diags)
		}
		defer lg.Close()
		dom, ok, err := lg.lookup()
		if err != nil || !ok {
			return where, false, err
		}
		st, err := lg.status(dom)
		return where, st == "running" || st == "paused", err
	case "vsphere":
		vg, diags := openVSphere(ctx, s, src)
		if diags.HasErrors() {
			return where, false, diagsErr(diags)
		}
		defer vg.Close(ctx)
		vm, err := vg.lookup(ctx)
		if err != nil || vm == nil {
			return where, false, err
		}
		st, err := vg.status(ctx, vm)
		return where, st == "running" || st == "suspended", err
	}
	in, err := openInstance(ctx, g)
	if err != nil {
		return where, false, err
	}
	defer in.Close()
	pid, err := in.pid(ctx)
	if err != nil || pid == 0 {
		return where, false, err
	}
	where = fmt.Sprintf("%q (QEMU pid %d on host %q)", g.name, pid, g.host.Name)
	st, _, err := in.status(ctx)
	if err != nil {
		// Alive but not answering: it may still run its guest.
		return where, in.alive(ctx, pid), nil
	}
	return where, st == "running" || st == "paused", nil
}

// isGuestValue says whether v has a vm_guest's attributes: the value of a
// reference to one (whose triggers_replace has a type of its own).
func isGuestValue(v cty.Value) bool {
	if !v.Type().IsObjectType() {
		return false
	}
	for name := range guestValueType.AttributeTypes() {
		if !v.Type().HasAttribute(name) {
			return false
		}
	}
	return true
}

var guestValueType = guestSchema.Block.ImpliedType()

// diagsErr is the first error of diags as an error, for a message.
func diagsErr(diags providers.Diagnostics) error {
	for _, d := range diags {
		if d.Severity == providers.Error {
			return fmt.Errorf("%s: %s", d.Summary, d.Detail)
		}
	}
	return nil
}
