package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin"
	"github.com/drover-dr/drover/providers/discovery"
	"github.com/drover-dr/drover/providers/plugin"
	"github.com/drover-dr/drover/state"
	"github.com/drover-dr/drover/state/local"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

// Version is the Drover release; set with -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

// loadConfig reads the configuration of the working folder and checks
// drover.required_version.
func loadConfig(v *view) (*lang.Config, error) {
	cfg, diags := lang.LoadDir(".")
	if cfg != nil {
		v.files = cfg.Files
	}
	if diags.HasErrors() {
		return nil, v.fail(diags)
	}
	v.diagnostics(diags)
	if cfg.Drover != nil && cfg.Drover.RequiredVersion != "" {
		c, err := version.NewConstraint(cfg.Drover.RequiredVersion)
		if err != nil {
			return nil, v.fail(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid required_version",
				Detail: fmt.Sprintf("%q is not a version constraint: %v.", cfg.Drover.RequiredVersion, err), Subject: cfg.Drover.DeclRange.Ptr()}})
		}
		if !c.Check(version.Must(version.NewVersion(Version)).Core()) {
			return nil, v.fail(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unsupported Drover version",
				Detail:  fmt.Sprintf("This configuration requires Drover %s; this is Drover %s. Install a matching release.", cfg.Drover.RequiredVersion, Version),
				Subject: cfg.Drover.DeclRange.Ptr()}})
		}
	}
	return cfg, nil
}

// varOptions are the flags that set input variables.
type varOptions struct {
	vars     []string
	varFiles []string
}

func (o *varOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&o.vars, "var", nil, "set an input variable: `NAME=VALUE` (repeatable)")
	cmd.Flags().StringArrayVar(&o.varFiles, "var-file", nil, "read input variables from `FILE` (repeatable)")
}

// variables gathers and checks the input variables.
func (o *varOptions) variables(v *view, cfg *lang.Config) (map[string]cty.Value, error) {
	inputs, diags := lang.InputValues(cfg, os.Environ(), o.varFiles, o.vars)
	if diags.HasErrors() {
		return nil, v.fail(diags)
	}
	vars, d := lang.FinalizeVariables(cfg, inputs)
	if d.HasErrors() {
		return nil, v.fail(append(diags, d...))
	}
	v.diagnostics(append(diags, d...))
	return vars, nil
}

// logger is where provider and plugin logs go: DROVER_LOG sets the level,
// DROVER_LOG_PATH the file; without DROVER_LOG_PATH logs go to stderr only
// when DROVER_LOG is set, and nowhere otherwise. A process makes one.
var logger = sync.OnceValue(func() hclog.Logger {
	level := os.Getenv("DROVER_LOG")
	path := os.Getenv("DROVER_LOG_PATH")
	if level == "" && path == "" {
		return hclog.NewNullLogger()
	}
	if level == "" {
		level = "info"
	}
	var out io.Writer = os.Stderr
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintf(os.Stderr, "Warning: cannot open DROVER_LOG_PATH %s: %v; logging to stderr\n", path, err)
		} else {
			out = f
		}
	}
	return hclog.New(&hclog.LoggerOptions{Name: "drover", Level: hclog.LevelFromString(level), Output: out})
})

// registry lists the built-in providers (served by this binary) and the
// third-party providers pinned by `drover init`, each checked against its
// recorded checksum.
func registry(cfg *lang.Config) (*providers.Registry, error) {
	reg, err := builtinRegistry()
	if err != nil {
		return nil, err
	}
	if err := addInstalled(reg, cfg); err != nil {
		return nil, err
	}
	return reg, nil
}

// builtinRegistry lists the providers this binary serves, which are known
// before the configuration is read.
func builtinRegistry() (*providers.Registry, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the drover binary: %w", err)
	}
	return providers.NewRegistry(builtin.Entries(exe, logger())...), nil
}

// addInstalled adds the third-party providers cfg requires to reg, as
// pinned by `drover init`, each checked against its recorded checksum.
func addInstalled(reg *providers.Registry, cfg *lang.Config) error {
	if cfg == nil || cfg.Drover == nil || len(cfg.Drover.RequiredProviders) == 0 {
		return nil
	}
	lock, err := discovery.ReadLock(".")
	if err != nil {
		return err
	}
	log := logger()
	for name := range cfg.Drover.RequiredProviders {
		if builtin.Provider(name) != nil {
			continue
		}
		found, ok := lock.Providers[name]
		if !ok {
			return fmt.Errorf("provider %q is required but not installed for this configuration: run `drover init`", name)
		}
		if err := discovery.Verify(name, found); err != nil {
			return err
		}
		path := found.Path
		reg.Add(providers.Entry{Name: name, Factory: plugin.Factory(name, func() *exec.Cmd { return exec.Command(path) }, log)})
	}
	return nil
}

// mayNameBackend reports whether one of the configuration files may hold
// a backend block: when none even holds the word, the state lives in the
// default place.
func mayNameBackend(files []string) bool {
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil || bytes.Contains(b, []byte("backend")) {
			return true
		}
	}
	return false
}

// configFiles lists the configuration files of the working folder.
func configFiles() []string {
	var names []string
	for _, suffix := range []string{lang.NativeSuffix, lang.JSONSuffix} {
		found, _ := filepath.Glob("*" + suffix) // the patterns are well-formed
		names = append(names, found...)
	}
	return names
}

// manyInstances is how many resource instances make a run's heap worth
// starting on huge pages (warmup.HugeHeap): below, that costs more than it
// saves (measured: a wash at 50 instances, 7% faster at 150, 17% at 1,000).
const manyInstances = 128

// largeWorkspace says whether the configuration files or the local state are
// large enough (well over manyInstances resources) that the run's heap
// should start on huge pages before either is read.
func largeWorkspace(files []string) bool {
	var config int64
	for _, name := range files {
		if fi, err := os.Stat(name); err == nil {
			config += fi.Size()
		}
	}
	st, err := os.Stat(local.DefaultPath)
	return config >= 128<<10 || err == nil && st.Size() >= 64<<10
}

// configInstances estimates how many resource instances cfg declares: a
// count or for_each written as a literal gives its size, any other
// resource counts one.
func configInstances(cfg *lang.Config) int {
	n := 0
	for _, rc := range cfg.Resources {
		n += literalSize(rc.Count, rc.ForEach)
	}
	return n
}

func literalSize(exprs ...hcl.Expression) int {
	for _, e := range exprs {
		if e == nil || len(e.Variables()) > 0 {
			continue
		}
		v, diags := e.Value(nil)
		if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
			continue
		}
		switch {
		case v.Type() == cty.Number:
			if i, acc := v.AsBigFloat().Int64(); acc == big.Exact && i >= 0 {
				return int(i)
			}
		case v.CanIterateElements():
			return v.LengthInt()
		}
	}
	return 1
}

// localBackendConfig is the body of `backend "local" { ... }`.
type localBackendConfig struct {
	Path string `hcl:"path,optional"`
}

// backendPath checks the backend block (local by default) and gives the
// path of the state it names. validate calls it too, so that it refuses
// what plan would.
func backendPath(cfg *lang.Config) (string, hcl.Diagnostics) {
	path := local.DefaultPath
	if cfg == nil || cfg.Drover == nil || cfg.Drover.Backend == nil {
		return path, nil
	}
	b := cfg.Drover.Backend
	if b.Type != "local" {
		return "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unsupported backend",
			Detail: fmt.Sprintf("The backend %q is not available in this release; use \"local\".", b.Type), Subject: b.DeclRange.Ptr()}}
	}
	var lc localBackendConfig
	if diags := gohcl.DecodeBody(b.Config, nil, &lc); diags.HasErrors() {
		return "", diags
	}
	if lc.Path != "" {
		path = lc.Path
	}
	return path, nil
}

// backend opens the state backend the configuration names (local by default).
func backend(v *view, cfg *lang.Config) (state.Backend, error) {
	b, diags, err := openBackend(cfg)
	if err := v.fail(diags); err != nil {
		return nil, err
	}
	return b, err
}

// openBackend is backend for a caller that shows the diagnostics later,
// in its own order.
func openBackend(cfg *lang.Config) (state.Backend, hcl.Diagnostics, error) {
	path, diags := backendPath(cfg)
	if diags.HasErrors() {
		return nil, diags, nil
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, diags, err
		}
	}
	return local.New(path), diags, nil
}

// lockOptions are the flags about the state lock.
type lockOptions struct {
	lock        bool
	lockTimeout time.Duration
}

func (o *lockOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.lock, "lock", true, "take the state lock (false only when nothing else can run)")
	cmd.Flags().DurationVar(&o.lockTimeout, "lock-timeout", 0, "wait up to `DURATION` for the state lock instead of failing at once")
}

// take locks the state for operation and returns the unlock function.
func (o *lockOptions) take(ctx context.Context, b state.Backend, operation string) (func() error, error) {
	if !o.lock {
		return func() error { return nil }, nil
	}
	lctx := ctx
	if o.lockTimeout > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(ctx, o.lockTimeout)
		defer cancel()
	}
	id, err := b.Lock(lctx, state.NewLockInfo(operation))
	if err != nil {
		return nil, err
	}
	return func() error { return b.Unlock(id) }, nil
}

// readState reads the stored state, or a new empty one.
func readState(ctx context.Context, b state.Backend) (*state.State, error) {
	s, err := b.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the state: %w", err)
	}
	if s == nil {
		s = state.New()
	}
	return s, nil
}

// parseAddrs reads --target / --replace style flag values.
func parseAddrs(flag string, vals []string) ([]addrs.Instance, error) {
	out := make([]addrs.Instance, 0, len(vals))
	for _, s := range vals {
		a, err := addrs.ParseInstance(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// quietConfig loads the configuration only to find the backend; commands
// that work on the state alone still run when it is missing or broken.
func quietConfig() *lang.Config {
	cfg, diags := lang.LoadDir(".")
	if diags.HasErrors() {
		return nil
	}
	return cfg
}
