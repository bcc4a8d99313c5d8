package core

import "github.com/drover-dr/drover/providers/sdk"

// Name is the provider's name.
const Name = "core"

// New returns the core provider.
func New() *sdk.Provider {
	roots := &hostRoots{}
	return &sdk.Provider{
		Name: Name,
		Resources: map[string]*sdk.Resource{
			"file":  fileResource(),
			"value": valueResource(),
		},
		DataSources: map[string]*sdk.DataSource{
			"file": fileDataSource(),
		},
		Actions: map[string]*sdk.Action{
			"run":   runAction(roots),
			"wait":  waitAction(),
			"check": checkAction(roots),
		},
	}
}
