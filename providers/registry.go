package providers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/drover-dr/drover/providers/schema"
	"github.com/hashicorp/go-multierror"
	"github.com/zclconf/go-cty/cty"
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
	entries     map[string]Entry
	byType      map[string]string
	parallelism int

	mu      sync.Mutex
	started map[string]*started
}

type started struct {
	once   sync.Once
	p      Provider
	schema *schema.Provider
	err    error
}

// NewRegistry builds a registry over entries.
func NewRegistry(entries ...Entry) *Registry {
	r := &Registry{entries: map[string]Entry{}, byType: map[string]string{}, started: map[string]*started{}}
	for _, e := range entries {
		r.entries[e.Name] = e
		for _, t := range e.Types {
			r.byType[t] = e.Name
		}
	}
	return r
}

// SetParallelism sets how many calls each provider may run at once; it
// takes effect for providers started afterwards.
func (r *Registry) SetParallelism(n int) {
	r.mu.Lock()
	r.parallelism = n
	r.mu.Unlock()
}

// Resolve names the provider serving typeName: the explicit provider when
// given, else a provider listing the type, else the provider whose name is
// the type's prefix before the first underscore.
func (r *Registry) Resolve(typeName, explicit string) (string, bool) {
	if explicit != "" {
		_, ok := r.entries[explicit]
		return explicit, ok
	}
	if name, ok := r.byType[typeName]; ok {
		return name, true
	}
	prefix, _, _ := strings.Cut(typeName, "_")
	_, ok := r.entries[prefix]
	return prefix, ok
}

// Get starts (once) and configures (once, with a null configuration) the
// named provider and returns it with its schema.
func (r *Registry) Get(ctx context.Context, name string) (Provider, *schema.Provider, error) {
	e, ok := r.entries[name]
	if !ok {
		return nil, nil, fmt.Errorf("no provider named %q is available", name)
	}
	r.mu.Lock()
	s := r.started[name]
	if s == nil {
		s = &started{}
		r.started[name] = s
	}
	r.mu.Unlock()
	s.once.Do(func() { s.p, s.schema, s.err = r.start(ctx, e) })
	return s.p, s.schema, s.err
}

func (r *Registry) start(ctx context.Context, e Entry) (Provider, *schema.Provider, error) {
	p, err := e.Factory()
	if err != nil {
		return nil, nil, fmt.Errorf("starting provider %q: %w", e.Name, err)
	}
	sr := p.Schema(ctx, SchemaRequest{})
	if err := diagsErr(e.Name, "reading its schema", sr.Diagnostics); err != nil {
		p.Close()
		return nil, nil, err
	}
	cfg := cty.NullVal(cty.EmptyObject)
	if sr.Schema.Config != nil {
		cfg = cty.NullVal(sr.Schema.Config.ImpliedType())
	}
	r.mu.Lock()
	parallelism := r.parallelism
	r.mu.Unlock()
	cr := p.Configure(ctx, ConfigureRequest{Config: cfg, Parallelism: parallelism})
	if err := diagsErr(e.Name, "configuring it", cr.Diagnostics); err != nil {
		p.Close()
		return nil, nil, err
	}
	return p, sr.Schema, nil
}

func diagsErr(name, doing string, diags Diagnostics) error {
	if !diags.HasErrors() {
		return nil
	}
	var err error
	for _, d := range diags {
		if d.Severity == Error {
			err = multierror.Append(err, fmt.Errorf("%s: %s", d.Summary, d.Detail))
		}
	}
	return fmt.Errorf("provider %q failed %s: %w", name, doing, err)
}

// Names lists the providers available, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.entries))
	for n := range r.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Close ends every started provider.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	for name, s := range r.started {
		if s.p != nil {
			if cerr := s.p.Close(); cerr != nil {
				err = multierror.Append(err, fmt.Errorf("closing provider %q: %w", name, cerr))
			}
		}
	}
	r.started = map[string]*started{}
	return err
}
