package providers

import (
	"context"

	"github.com/drover-dr/drover/providers/schema"
)

// Entry is one available provider.
type Entry struct {
	Name    string
	Factory Factory
	// Types lists resource types, data sources and actions served, when
	// known without starting the provider (built-ins). Other providers
	// serve the types whose name starts with "NAME_".
	Types []string
}

// Registry starts providers on first use, once each, keeps their schemas,
// and resolves which provider serves a resource type. Safe for concurrent use.
type Registry struct {
	entries map[string]Entry
}

// NewRegistry builds a registry over entries.
func NewRegistry(entries ...Entry) *Registry { panic("unimplemented") }

// Resolve names the provider serving typeName: the explicit provider when
// given, else a provider listing the type, else the provider whose name is
// the type's prefix before the first underscore.
func (r *Registry) Resolve(typeName, explicit string) (string, bool) { panic("unimplemented") }

// Get starts (once) and configures (once) the named provider and returns
// it with its schema.
func (r *Registry) Get(ctx context.Context, name string) (Provider, *schema.Provider, error) {
	panic("unimplemented")
}

// Names lists the providers available, sorted.
func (r *Registry) Names() []string { panic("unimplemented") }

// Close ends every started provider.
func (r *Registry) Close() error { panic("unimplemented") }
