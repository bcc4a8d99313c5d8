package main

import (
	"context"

	"github.com/drover-dr/drover/planner"
	"github.com/spf13/cobra"
)

type validateOptions struct {
	// varOptions give the variables hosts are evaluated with for --hosts.
	varOptions
	hostKeyOptions
	// hosts also connects to every host, as `drover hosts check` does.
	hosts bool
}

func newValidateCommand(g *globalOptions) *cobra.Command {
	o := &validateOptions{}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration without touching state or hosts",
		Long: "Checks syntax, references, types and every resource against its provider's schema; runbooks\n" +
			"like resources; hosts and the backend, refusing what plan would refuse. With --hosts it also\n" +
			"connects to every host and checks it as `drover hosts check` does.\n\n" + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runValidate(cmd.Context(), g, o) },
	}
	cmd.Flags().BoolVar(&o.hosts, "hosts", false, "also connect to every host and check what providers need there")
	o.hostKeyOptions.addFlags(cmd)
	o.varOptions.addFlags(cmd)
	return cmd
}

func runValidate(ctx context.Context, g *globalOptions, o *validateOptions) error {
	v := g.newView()
	cfg, err := loadConfig(v)
	if err != nil {
		return err
	}
	reg, err := registry(cfg)
	if err != nil {
		return err
	}
	defer reg.Close()
	_, diags := backendPath(cfg)
	diags = append(diags, planner.Validate(ctx, cfg, reg)...)
	if err := v.fail(diags); err != nil {
		return err
	}
	if o.hosts {
		vars, err := o.variables(v, cfg)
		if err != nil {
			return err
		}
		if err := checkHosts(ctx, v, cfg, vars, o.trustNewHostKeys); err != nil {
			return err
		}
	}
	if v.json {
		v.event("validate", map[string]any{"valid": true})
		return nil
	}
	v.printf("%s\n", v.green("Success! The configuration is valid."))
	return nil
}
