package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/drover-dr/drover/cmd/drover/internal/render"
	"github.com/drover-dr/drover/state"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// sensitiveValue stands for a sensitive output's value in text.
const sensitiveValue = "(sensitive value)"

type outputOptions struct {
	raw bool
}

func newOutputCommand(g *globalOptions) *cobra.Command {
	o := &outputOptions{}
	cmd := &cobra.Command{
		Use:   "output [NAME]",
		Short: "Show output values from the state",
		Long:  "Shows every root output, or the value of one; sensitive values are hidden unless one is named with --json (its value as JSON) or --raw (a string without quotes, for scripts).\n\n" + exitCodesHelp,
		Args:  cobra.MaximumNArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return runOutput(cmd.Context(), g, o, args) },
	}
	cmd.Flags().BoolVar(&o.raw, "raw", false, "print one string output without quotes")
	return cmd
}

func runOutput(ctx context.Context, g *globalOptions, o *outputOptions, args []string) error {
	v := g.newView()
	cfg := quietConfig()
	b, err := backend(v, cfg)
	if err != nil {
		return err
	}
	s, err := readState(ctx, b)
	if err != nil {
		return err
	}
	if len(args) == 1 {
		out, ok := s.Outputs[args[0]]
		if !ok {
			return fmt.Errorf("no output named %q in the state: run `drover output` to list them", args[0])
		}
		switch {
		case o.raw:
			if out.Value.Type() != cty.String {
				return fmt.Errorf("--raw prints strings only; %q is a %s", args[0], out.Value.Type().FriendlyName())
			}
			fmt.Fprint(v.out, out.Value.AsString())
		case g.json:
			b, err := ctyjson.Marshal(out.Value, out.Value.Type())
			if err != nil {
				return err
			}
			fmt.Fprintln(v.out, string(b))
		case out.Sensitive:
			// Redacted unless asked for in a form meant for scripts, as
			// docs/hcl.md promises: a terminal or a log is no place for it.
			fmt.Fprintln(v.out, sensitiveValue)
			fmt.Fprintf(v.err, "%s is sensitive: --raw or --json prints its value.\n", args[0])
		default:
			fmt.Fprintln(v.out, render.Value(out.Value))
		}
		return nil
	}
	if g.json {
		b, err := json.Marshal(outputsJSON(s))
		if err != nil {
			return err
		}
		return v.document(b)
	}
	if len(s.Outputs) == 0 {
		fmt.Fprintln(v.err, "No outputs: the configuration declares none, or nothing has been applied yet.")
		return nil
	}
	for _, name := range sortedOutputs(s) {
		out := s.Outputs[name]
		val := sensitiveValue
		if !out.Sensitive {
			val = render.Value(out.Value)
		}
		fmt.Fprintf(v.out, "%s = %s\n", name, val)
	}
	return nil
}

// outputsJSON is the outputs of s as Terraform-like JSON: name to
// {sensitive, type, value}, a sensitive value written as null; naming the
// output with --json or --raw shows it.
func outputsJSON(s *state.State) map[string]any {
	out := map[string]any{}
	for name, o := range s.Outputs {
		vb, err := ctyjson.Marshal(o.Value, o.Value.Type())
		if err != nil {
			continue
		}
		tb, _ := ctyjson.MarshalType(o.Value.Type())
		entry := map[string]any{"sensitive": o.Sensitive, "type": json.RawMessage(tb), "value": json.RawMessage(vb)}
		if o.Sensitive {
			entry["value"] = nil
		}
		out[name] = entry
	}
	return out
}
