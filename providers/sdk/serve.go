package sdk

import "github.com/drover-dr/drover/providers/plugin"

// Serve serves p as a provider plugin and blocks until Drover ends the
// process. Call it from a provider binary's main.
func Serve(p *Provider) {
	plugin.Serve(New(p))
}
