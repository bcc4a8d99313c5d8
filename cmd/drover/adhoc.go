package main

import (
	"context"

	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner"
	"github.com/drover-dr/drover/providers"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

// adhocSession is what an ad-hoc command (registry, boot) needs: the
// configuration of the working folder, its variables and the providers.
// Hosts named on the command line are host blocks of that configuration.
type adhocSession struct {
	v    *view
	cfg  *lang.Config
	vars map[string]cty.Value
	reg  *providers.Registry
}

func newAdhocSession(g *globalOptions, vo *varOptions) (*adhocSession, error) {
	v := g.newView()
	cfg, err := loadConfig(v)
	if err != nil {
		return nil, err
	}
	vars, err := vo.variables(v, cfg)
	if err != nil {
		return nil, err
	}
	reg, err := registry(cfg)
	if err != nil {
		return nil, err
	}
	return &adhocSession{v: v, cfg: cfg, vars: vars, reg: reg}, nil
}

func (s *adhocSession) close() { s.reg.Close() }

// host evaluates the host block called name.
func (s *adhocSession) host(name string) (cty.Value, error) {
	h, diags := planner.Host(s.cfg, s.vars, name)
	if err := s.v.fail(diags); err != nil {
		return cty.NilVal, err
	}
	return h, nil
}

// stateArgs takes the arguments of an action from the attributes of the
// resource instance at addr in the state.
func (s *adhocSession) stateArgs(ctx context.Context, addr string, names ...string) (map[string]cty.Value, error) {
	inst, err := stateInstance(ctx, s.v, addr)
	if err != nil {
		return nil, err
	}
	attrs, _ := inst.Attrs.UnmarkDeep()
	args := map[string]cty.Value{}
	for _, name := range names {
		if attrs.Type().IsObjectType() && attrs.Type().HasAttribute(name) {
			args[name] = attrs.GetAttr(name)
		}
	}
	return args, nil
}

// stringFlags sets args from the string flags the command line gave.
func stringFlags(cmd *cobra.Command, args map[string]cty.Value, flags map[string]*string) {
	for name, p := range flags {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed {
			args[flagArg(name)] = cty.StringVal(*p)
		}
	}
}

// flagArg is the action argument a flag sets (--out-file → out_file).
func flagArg(flag string) string {
	b := []byte(flag)
	for i, c := range b {
		if c == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}
