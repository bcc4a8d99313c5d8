package main

import (
	"context"

	"github.com/drover-dr/drover/planner"
	"github.com/spf13/cobra"
)

func newValidateCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration without touching state or hosts",
		Long: "Checks syntax, references, types and every resource against its provider's schema; runbooks\n" +
			"like resources; hosts and the backend, refusing what plan would refuse.\n\n" + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runValidate(cmd.Context(), g) },
	}
}

func runValidate(ctx context.Context, g *globalOptions) error {
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
	if v.json {
		v.event("validate", map[string]any{"valid": true})
		return nil
	}
	v.printf("%s\n", v.green("Success! The configuration is valid."))
	return nil
}
