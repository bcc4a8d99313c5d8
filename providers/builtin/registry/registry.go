package registry

import "github.com/drover-dr/drover/providers/sdk"

// Name is the provider's name.
const Name = "registry"

// New returns the registry provider.
func New() *sdk.Provider {
	return &sdk.Provider{
		Name: Name,
		Resources: map[string]*sdk.Resource{
			"registry_capture": captureResource(),
		},
		Actions: map[string]*sdk.Action{
			"registry_import": importAction(),
			"registry_export": exportAction(),
			"registry_diff":   diffAction(),
			"registry_value":  valueAction(),
		},
	}
}
