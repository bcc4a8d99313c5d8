package main

import (
	"context"
	"fmt"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/planner"
	"github.com/drover-dr/drover/state"
	"github.com/spf13/cobra"
)

func newImportCommand(g *globalOptions) *cobra.Command {
	lo := &lockOptions{}
	vo := &varOptions{}
	cmd := &cobra.Command{
		Use:   "import ADDR ID",
		Short: "Take an existing object under Drover's management",
		Long: `Finds the existing object that ID names (its form depends on the resource type: see
docs/hcl.md) and records it in the state at ADDR, which a resource block of the
configuration must declare. Nothing on the hosts changes; run plan afterwards to see how
the object differs from its configuration.

An ID of the form HOST:PATH, HOST a host block of the configuration, names a path on that
host: it reaches the provider as {"host": HOST, "path": PATH}.

` + exitCodesHelp,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd.Context(), g, lo, vo, args[0], args[1])
		},
	}
	lo.addFlags(cmd)
	vo.addFlags(cmd)
	return cmd
}

func runImport(ctx context.Context, g *globalOptions, lo *lockOptions, vo *varOptions, addrArg, id string) error {
	v := g.newView()
	addr, err := addrs.ParseInstance(addrArg)
	if err != nil {
		return err
	}
	if addr.Mode == addrs.Data {
		return fmt.Errorf("%s is a data source: data sources are read, not imported", addr)
	}
	cfg, err := loadConfig(v)
	if err != nil {
		return err
	}
	vars, err := vo.variables(v, cfg)
	if err != nil {
		return err
	}
	id, diags := planner.ImportID(cfg, vars, id)
	if err := v.fail(diags); err != nil {
		return err
	}
	reg, err := registry(cfg)
	if err != nil {
		return err
	}
	defer reg.Close()
	b, err := backend(v, cfg)
	if err != nil {
		return err
	}
	unlock, err := lo.take(ctx, b, "import")
	if err != nil {
		return err
	}
	defer unlock()
	s, err := readState(ctx, b)
	if err != nil {
		return err
	}
	if err := v.fail(planner.ImportTarget(cfg, vars, s, addr)); err != nil {
		return err
	}
	if s.Instance(addr) != nil {
		return fmt.Errorf("%s is already in the state; `drover state rm %s` first to import another object there", addr, addr)
	}
	inst, diags := planner.Import(ctx, reg, addr, cfg.Resources[addr.Resource].Provider, id)
	if err := v.fail(diags); err != nil {
		return err
	}
	s.Set(inst)
	if err := b.Persist(ctx, s, state.PersistOptions{}); err != nil {
		return err
	}
	if v.json {
		v.event("import_complete", map[string]any{"address": addr.String(), "id": id})
		return nil
	}
	fmt.Fprintf(v.out, "%s: imported. Run `drover plan` to compare it with its configuration.\n", addr)
	return nil
}
