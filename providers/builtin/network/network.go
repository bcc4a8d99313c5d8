package network

import "github.com/drover-dr/drover/providers/sdk"

// Name is the provider's name.
const Name = "network"

// New returns the network provider.
func New() *sdk.Provider {
	return &sdk.Provider{
		Name: Name,
		Resources: map[string]*sdk.Resource{
			"dns_record":       dnsRecordResource(),
			"ip_address":       ipAddressResource(),
			"share":            shareResource(),
			"host_name":        hostNameResource(),
			"network_identity": identityResource(),
		},
	}
}
