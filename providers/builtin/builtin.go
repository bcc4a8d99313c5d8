package builtin

import (
	"slices"

	// Built-in providers reach hosts with an address over SSH: the
	// transport registers itself with package host.
	_ "github.com/drover-dr/drover/host/ssh"
	"github.com/drover-dr/drover/providers/builtin/core"
	"github.com/drover-dr/drover/providers/builtin/disk"
	"github.com/drover-dr/drover/providers/builtin/network"
	"github.com/drover-dr/drover/providers/builtin/registry"
	"github.com/drover-dr/drover/providers/builtin/replication"
	"github.com/drover-dr/drover/providers/builtin/vm"
	"github.com/drover-dr/drover/providers/sdk"
)

// builtins maps each built-in provider's name to its constructor.
var builtins = map[string]func() *sdk.Provider{
	core.Name:        core.New,
	disk.Name:        disk.New,
	network.Name:     network.New,
	registry.Name:    registry.New,
	replication.Name: replication.New,
	vm.Name:          vm.New,
}

// Names lists the built-in providers, sorted.
func Names() []string {
	names := make([]string, 0, len(builtins))
	for name := range builtins {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Provider returns the built-in provider called name, or nil.
func Provider(name string) *sdk.Provider {
	newProvider, ok := builtins[name]
	if !ok {
		return nil
	}
	return newProvider()
}

// types lists what a provider serves: resource types, data sources and
// actions, sorted.
func types(p *sdk.Provider) []string {
	var out []string
	for name := range p.Resources {
		out = append(out, name)
	}
	for name := range p.DataSources {
		out = append(out, name)
	}
	for name := range p.Actions {
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
