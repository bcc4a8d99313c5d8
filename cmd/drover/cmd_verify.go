package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"

	"github.com/drover-dr/drover/internal/plural"
)

// errDifferences reports a verify that found the replica differing from
// its source: exit code 2, like a plan with changes.
var errDifferences = fmt.Errorf("the replica differs from its source: %w", errChanges)

// verifyOptions are the flags of `drover verify`.
type verifyOptions struct {
	repair bool
}

func (o *verifyOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.repair, "repair", false, "mirror every difference found, then compare again")
}

func newVerifyCommand(g *globalOptions) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify ADDR",
		Short: "Compare a replication set's source and target by content and list every difference",
		Long: `Reads both sides of the replication set at ADDR (as in the state) and compares
every file by content, whatever its size and time, listing each difference: + missing
on the target, ~ different (and why), - only on the target (with delete_orphans).
--repair mirrors them and compares again. The exit code is 2 when differences remain.

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), g, o, args[0])
		},
	}
	o.addFlags(cmd)
	return cmd
}

func runVerify(ctx context.Context, g *globalOptions, o *verifyOptions, addr string) error {
	v := g.newView()
	sets, err := replicationSets(ctx, v, []string{addr})
	if err != nil {
		return err
	}
	inst := sets[0]
	reg, err := registry(quietConfig())
	if err != nil {
		return err
	}
	defer reg.Close()
	label := inst.Addr.String()
	res, err := invokeAction(ctx, v, reg, label, inst.Provider, "verify_replica",
		map[string]cty.Value{"set": inst.Attrs, "repair": cty.BoolVal(o.repair)})
	if err != nil {
		return err
	}
	var diffs []string
	for _, d := range res.GetAttr("differences").AsValueSlice() {
		diffs = append(diffs, d.AsString())
	}
	inSync, repaired := res.GetAttr("in_sync").True(), res.GetAttr("repaired").True()
	if v.json {
		v.event("verify_result", map[string]any{"address": label, "differences": diffs, "in_sync": inSync, "repaired": repaired})
	} else {
		for _, d := range diffs {
			v.printf("  %s\n", d)
		}
		switch {
		case repaired:
			v.printf("%s: %s repaired; source and target now match.\n", label, plural.Count(len(diffs), "difference"))
		case inSync:
			v.printf("%s: source and target match.\n", label)
		default:
			v.printf("%s: %s. Run `drover verify --repair %s` to mirror them.\n", label, plural.Count(len(diffs), "difference"), label)
		}
	}
	if !inSync {
		return errDifferences
	}
	return nil
}
