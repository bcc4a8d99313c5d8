package replication

import (
	"context"
	"sync/atomic"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// Name is the provider's name.
const Name = "replication"

// providerSchema is the provider's own configuration: settings of every
// set it serves, for one run (`drover apply --allow-mass-delete` sets
// allow_mass_delete) or for good (a provider "replication" block).
var providerSchema = &schema.Block{Attributes: map[string]*schema.Attribute{
	"allow_mass_delete": {Type: cty.Bool, Optional: true,
		Description: "Let every set through what its max_delete refuses, and sources replaced since the last mirror."},
}}

// provider holds the provider's configuration. It is configured before
// any set is read or planned.
type provider struct {
	allowMassDelete atomic.Bool
}

// New returns the replication provider.
func New() *sdk.Provider {
	pv := &provider{}
	return &sdk.Provider{
		Name:      Name,
		Config:    providerSchema,
		Configure: pv.configure,
		Resources: map[string]*sdk.Resource{"replication_set": pv.setResource()},
		Actions: map[string]*sdk.Action{
			"replicate":      pv.replicateAction(),
			"verify_replica": pv.verifyAction(),
		},
	}
}

func (pv *provider) configure(ctx context.Context, config cty.Value) providers.Diagnostics {
	if !config.IsNull() {
		pv.allowMassDelete.Store(boolAttr(config, "allow_mass_delete"))
	}
	return nil
}

// parseSet is parseSet with the provider's settings applied.
func (pv *provider) parseSet(v cty.Value) (setConfig, providers.Diagnostics) {
	c, diags := parseSet(v)
	c.allowMassDelete = c.allowMassDelete || pv.allowMassDelete.Load()
	return c, diags
}
