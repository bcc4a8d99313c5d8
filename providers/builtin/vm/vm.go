package vm

import "github.com/drover-dr/drover/providers/sdk"

// Name is the provider's name.
const Name = "vm"

// New returns the vm provider.
func New() *sdk.Provider {
	return &sdk.Provider{
		Name: Name,
		Resources: map[string]*sdk.Resource{
			"vm_guest": guestResource(),
		},
		Actions: map[string]*sdk.Action{
			"guest_stop":  stopAction(),
			"guest_start": startAction(),
		},
	}
}
