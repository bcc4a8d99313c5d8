package disk

import "github.com/drover-dr/drover/providers/sdk"

// Name is the provider's name.
const Name = "disk"

// New returns the disk provider.
func New() *sdk.Provider {
	planned := &plannedImages{}
	return &sdk.Provider{
		Name: Name,
		Resources: map[string]*sdk.Resource{
			"drive":      driveResource(planned),
			"drive_copy": copyResource(planned),
			"boot_entry": bootEntryResource(),
		},
		Actions: map[string]*sdk.Action{
			"drive_diff":       diffAction(),
			"drive_restore":    restoreAction(),
			"boot_set_default": bootSetDefaultAction(),
			"boot_set_next":    bootSetNextAction(),
			"host_reboot":      rebootAction(),
		},
	}
}
