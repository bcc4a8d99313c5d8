package disk

import (
	"reflect"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/vm/guestdisk"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// validateSourceGuest refuses a source_guest that is not a vm_guest, once
// its value is known (a reference to a guest is known at plan time).
func validateSourceGuest(config cty.Value) providers.Diagnostics {
	g := config.GetAttr("source_guest")
	if !g.IsWhollyKnown() || g.IsNull() {
		return nil
	}
	if _, err := guestdisk.FromValue(g); err != nil {
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("source_guest"), "Invalid source guest", "%s.", err)}
	}
	return nil
}

// keepSourceGuest gives planned the prior source_guest when the guest
// differs only in what a copy does not read from it (its pid, its status
// after a restart): a plan that copies nothing then changes nothing,
// where every restart of the guest would otherwise show as an update of
// the copy.
func keepSourceGuest(prior, planned cty.Value) cty.Value {
	a, b := prior.GetAttr("source_guest"), planned.GetAttr("source_guest")
	if a.IsNull() || b.IsNull() || !b.IsWhollyKnown() || a.RawEquals(b) {
		return planned
	}
	ga, err := guestdisk.FromValue(a)
	if err != nil {
		return planned
	}
	gb, err := guestdisk.FromValue(b)
	if err != nil {
		return planned
	}
	// Whether it runs is asked of its QEMU when a copy is made.
	ga.Stopped, gb.Stopped = false, false
	if !reflect.DeepEqual(ga, gb) {
		return planned
	}
	return sdk.SetAttrs(planned, map[string]cty.Value{"source_guest": a})
}
