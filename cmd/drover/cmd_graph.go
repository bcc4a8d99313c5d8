package main

import (
	"context"
	"fmt"
	"os"

	"github.com/drover-dr/drover/executor"
	"github.com/drover-dr/drover/planner"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/spf13/cobra"
)

type graphOptions struct {
	planFile string
}

func newGraphCommand(g *globalOptions) *cobra.Command {
	o := &graphOptions{}
	cmd := &cobra.Command{
		Use:   "graph",
		Short: "Print the dependency graph in Graphviz DOT",
		Long:  "Prints the configuration's dependency graph, or with --plan the order a saved plan would be applied in. Render it with `dot -Tsvg`.\n\n" + exitCodesHelp,
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return runGraph(cmd.Context(), g, o) },
	}
	cmd.Flags().StringVar(&o.planFile, "plan", "", "graph the apply order of the saved plan `FILE`")
	return cmd
}

func runGraph(ctx context.Context, g *globalOptions, o *graphOptions) error {
	v := g.newView()
	if o.planFile != "" {
		b, err := os.ReadFile(o.planFile)
		if err != nil {
			return err
		}
		p, err := plan.Decode(b)
		if err != nil {
			return fmt.Errorf("%s: %w", o.planFile, err)
		}
		fmt.Fprint(v.out, executor.GraphDOT(p))
		return nil
	}
	cfg, err := loadConfig(v)
	if err != nil {
		return err
	}
	reg, err := registry(cfg)
	if err != nil {
		return err
	}
	defer reg.Close()
	dot, diags := planner.GraphDOT(ctx, cfg, reg)
	if err := v.fail(diags); err != nil {
		return err
	}
	fmt.Fprint(v.out, dot)
	return nil
}
