package main

import (
	"context"
	"fmt"
	"os"

	"github.com/drover-dr/drover/cmd/drover/internal/render"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/state"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

func newShowCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show [PLANFILE]",
		Short: "Show the current state or a saved plan",
		Long: `Without an argument, shows the current state for people. With PLANFILE, renders
a saved plan again. With --json, prints the plan document (see docs/plan-json.md)
or the state with sensitive values removed.

` + exitCodesHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runShow(cmd.Context(), g, args) },
	}
}

func runShow(ctx context.Context, g *globalOptions, args []string) error {
	v := g.newView()
	if len(args) == 1 {
		b, err := os.ReadFile(args[0])
		if err != nil {
			return err
		}
		p, err := plan.Decode(b)
		if err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		if g.json {
			out, err := plan.Encode(p)
			if err != nil {
				return err
			}
			return v.document(out)
		}
		if p.Runbook != nil {
			render.Runbook(v.out, p.Runbook, render.Options{Color: v.color})
			return nil
		}
		return render.Plan(v.out, p, render.Options{Color: v.color})
	}
	cfg := quietConfig()
	b, err := backend(v, cfg)
	if err != nil {
		return err
	}
	s, err := readState(ctx, b)
	if err != nil {
		return err
	}
	if g.json {
		out, err := state.Marshal(redacted(s))
		if err != nil {
			return err
		}
		return v.document(out)
	}
	if len(s.Instances) == 0 && len(s.Outputs) == 0 {
		fmt.Fprintln(v.out, "The state is empty.")
		return nil
	}
	return render.State(v.out, s, render.Options{Color: v.color})
}

// redacted returns a copy of s with sensitive values nulled, for output.
func redacted(s *state.State) *state.State {
	c := s.DeepCopy()
	for _, inst := range c.Instances {
		if len(inst.SensitivePaths) == 0 {
			continue
		}
		paths := inst.SensitivePaths
		inst.Attrs, _ = cty.Transform(inst.Attrs, func(p cty.Path, x cty.Value) (cty.Value, error) {
			for _, sp := range paths {
				if p.Equals(sp) {
					return cty.NullVal(x.Type()), nil
				}
			}
			return x, nil
		})
	}
	for name, o := range c.Outputs {
		if o.Sensitive {
			o.Value = cty.NullVal(o.Value.Type())
			c.Outputs[name] = o
		}
	}
	return c
}
