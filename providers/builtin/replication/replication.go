package replication

import "github.com/drover-dr/drover/providers/sdk"

// Name is the provider's name.
const Name = "replication"

// New returns the replication provider.
func New() *sdk.Provider {
	return &sdk.Provider{
		Name:      Name,
		Resources: map[string]*sdk.Resource{"replication_set": setResource()},
		Actions: map[string]*sdk.Action{
			"replicate":      replicateAction(),
			"verify_replica": verifyAction(),
		},
	}
}
