package disk

import (
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/vm/guestdisk"
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
