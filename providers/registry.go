package providers

import (
	"context"
	"fmt"
	"maps"
	"slices"
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
	mu          sync.Mutex
	entries     map[string]Entry
	byType      map[string]string
	parallelism int
	// settings are attributes of a provider's configuration given for
	// one run (a command-line flag), over its provider block.
	settings map[string]map[string]cty.Value
	started  map[string]*started
	// closed refuses starts after Close, so that none outlives it.
	closed bool
}

type started struct {
	once   sync.Once
	p      Provider
	schema *schema.Provider
	err    error

	configureOnce sync.Once
	configureErr  error
}

// NewRegistry builds a registry over entries.
func NewRegistry(entries ...Entry) *Registry {
	r := &Registry{entries: map[string]Entry{}, byType: map[string]string{}, started: map[string]*started{}}
	r.Add(entries...)
	return r
}

// Add makes more providers available, such as the installed ones a
// configuration requires, which are known only once it is read; the
// registry may already be starting others meanwhile.
func (r *Registry) Add(entries ...Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range entries {
		r.entries[e.Name] = e
		for _, t := range e.Types {
			r.byType[t] = e.Name
		}
	}
}

// SetParallelism sets how many calls each provider may run at once; it
// takes effect for providers started afterwards.
func (r *Registry) SetParallelism(n int) {
	r.mu.Lock()
	r.parallelism = n
	r.mu.Unlock()
}

// SetSetting sets the attribute attr of the named provider's
// configuration to v, over what its provider block says (if anything),
// when it is configured; a provider whose configuration has no such
// attribute is configured without it.
func (r *Registry) SetSetting(provider, attr string, v cty.Value) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.settings == nil {
		r.settings = map[string]map[string]cty.Value{}
	}
	if r.settings[provider] == nil {
		r.settings[provider] = map[string]cty.Value{}
	}
	r.settings[provider][attr] = v
}

// Resolve names the provider serving typeName: the explicit provider when
// given, else a provider listing the type, else the provider whose name is
// the type's prefix before the first underscore.
func (r *Registry) Resolve(typeName, explicit string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
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

// Types lists the resource types the entries declare, for suggestions.
func (r *Registry) Types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.byType))
}

// Schema starts (once) the named provider and returns its schema, without
// configuring it.
func (r *Registry) Schema(ctx context.Context, name string) (*schema.Provider, error) {
	s, err := r.start(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.schema, nil
}

// Prestart starts the named providers in the background, so that their
// processes come up while the caller does other work (reading the
// configuration or the state); Schema, Configure and Get then wait for
// them. Names not (yet) available are skipped; start failures are
// reported by those calls.
func (r *Registry) Prestart(ctx context.Context, names ...string) {
	for _, name := range names {
		r.mu.Lock()
		_, ok := r.entries[name]
		r.mu.Unlock()
		if ok {
			go r.start(context.WithoutCancel(ctx), name)
		}
	}
}

// Configure configures the named provider with config, which conforms to
// its Config block. It must come before the provider's first Get; a
// provider is configured once.
func (r *Registry) Configure(ctx context.Context, name string, config cty.Value) error {
	s, err := r.start(ctx, name)
	if err != nil {
		return err
	}
	configured := false
	s.configureOnce.Do(func() {
		configured = true
		s.configureErr = r.configure(ctx, name, s, config)
	})
	if !configured {
		return fmt.Errorf("provider %q is already configured", name)
	}
	return s.configureErr
}

// Get starts (once) the named provider, configures it (once; with a null
// configuration unless Configure came first) and returns it with its
// schema.
func (r *Registry) Get(ctx context.Context, name string) (Provider, *schema.Provider, error) {
	s, err := r.start(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	s.configureOnce.Do(func() {
		cfg := cty.NullVal(cty.EmptyObject)
		if s.schema.Config != nil {
			cfg = cty.NullVal(s.schema.Config.ImpliedType())
		}
		s.configureErr = r.configure(ctx, name, s, cfg)
	})
	if s.configureErr != nil {
		return nil, nil, s.configureErr
	}
	return s.p, s.schema, nil
}

func (r *Registry) start(ctx context.Context, name string) (*started, error) {
	r.mu.Lock()
	e, ok := r.entries[name]
	switch {
	case !ok:
		r.mu.Unlock()
		return nil, fmt.Errorf("no provider named %q is available", name)
	case r.closed:
		r.mu.Unlock()
		return nil, fmt.Errorf("provider %q is not started: its registry is closed", name)
	}
	s := r.started[name]
	if s == nil {
		s = &started{}
		r.started[name] = s
	}
	r.mu.Unlock()
	s.once.Do(func() {
		s.p, s.err = e.Factory()
		if s.err != nil {
			s.err = fmt.Errorf("starting provider %q: %w", e.Name, s.err)
			return
		}
		sr := s.p.Schema(ctx, SchemaRequest{})
		if s.err = diagsErr(e.Name, "reading its schema", sr.Diagnostics); s.err != nil {
			s.p.Close()
			s.p = nil
			return
		}
		s.schema = sr.Schema
	})
	return s, s.err
}

func (r *Registry) configure(ctx context.Context, name string, s *started, config cty.Value) error {
	r.mu.Lock()
	parallelism := r.parallelism
	settings := r.settings[name]
	r.mu.Unlock()
	if len(settings) > 0 && s.schema.Config != nil {
		config = withSettings(s.schema.Config.ImpliedType(), config, settings)
	}
	cr := s.p.Configure(ctx, ConfigureRequest{Config: config, Parallelism: parallelism})
	return diagsErr(name, "configuring it", cr.Diagnostics)
}

// withSettings is config (of type ty, possibly null) with the settings
// its type has.
func withSettings(ty cty.Type, config cty.Value, settings map[string]cty.Value) cty.Value {
	attrs := map[string]cty.Value{}
	for name, at := range ty.AttributeTypes() {
		switch v, ok := settings[name]; {
		case ok:
			attrs[name] = v
		case config.IsNull():
			attrs[name] = cty.NullVal(at)
		default:
			attrs[name] = config.GetAttr(name)
		}
	}
	return cty.ObjectVal(attrs)
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
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.entries))
}

// Close ends every started provider, waiting for those still starting;
// no provider starts afterwards.
func (r *Registry) Close() error {
	r.mu.Lock()
	r.closed = true
	running := r.started
	r.started = map[string]*started{}
	r.mu.Unlock()
	var err error
	for name, s := range running {
		s.once.Do(func() {})
		if s.p != nil {
			if cerr := s.p.Close(); cerr != nil {
				err = multierror.Append(err, fmt.Errorf("closing provider %q: %w", name, cerr))
			}
		}
	}
	return err
}
