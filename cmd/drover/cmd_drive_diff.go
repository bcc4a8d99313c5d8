package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"

	"github.com/drover-dr/drover/internal/plural"
)

// errDriveDifferences reports a drive diff that found differences: exit
// code 2, as verify's.
var errDriveDifferences = fmt.Errorf("the drive differs from its copy: %w", errChanges)

type driveDiffOptions struct {
	partition int
}

func newDriveDiffCommand(g *globalOptions) *cobra.Command {
	o := &driveDiffOptions{}
	cmd := &cobra.Command{
		Use:   "diff ADDR [PATH]",
		Short: "Show which files differ between a drive and its copy",
		Long: `Mounts each partition of the copy (or --partition N) and of its source read-only, through
loop devices, and lists the files below PATH (default /) that differ (≠), exist only in the
copy, deleted since it was made (-), or only in the source, new since (+). A partition
without a file system (swap, boot code) is compared byte by byte; one that cannot be
compared is an error, never skipped. Nothing stays
mounted or attached afterwards, also on error. The exit code is 2 when there are differences.

` + exitCodesHelp,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error { return runDriveDiff(cmd.Context(), g, o, args) },
	}
	cmd.Flags().IntVar(&o.partition, "partition", 0, "compare only partition `N`")
	return cmd
}

func runDriveDiff(ctx context.Context, g *globalOptions, o *driveDiffOptions, args []string) error {
	v := g.newView()
	inst, actionArgs, err := driveCopy(ctx, v, args[0])
	if err != nil {
		return err
	}
	if len(args) == 2 {
		actionArgs["path"] = cty.StringVal(args[1])
	}
	if o.partition > 0 {
		actionArgs["partition"] = cty.NumberIntVal(int64(o.partition))
	}
	reg, err := registry(quietConfig())
	if err != nil {
		return err
	}
	defer reg.Close()
	res, err := invokeAction(ctx, v, reg, inst.Addr.String(), inst.Provider, "drive_diff", actionArgs)
	if err != nil {
		return err
	}
	words := map[string]string{"≠": "", "+": "  (new since the copy)", "-": "  (deleted since the copy)"}
	rawWords := map[string]string{"≠": "its bytes differ from the copy's", "-": "the source no longer has this partition where the copy has it"}
	part, n := int64(-1), 0
	for it := res.ElementIterator(); it.Next(); {
		_, c := it.Element()
		p, _ := c.GetAttr("partition").AsBigFloat().Int64()
		path, change := c.GetAttr("path").AsString(), c.GetAttr("change").AsString()
		n++
		if g.json {
			v.event("drive_change", map[string]any{"address": inst.Addr.String(), "partition": p, "path": path, "change": change})
			continue
		}
		if p != part {
			v.printf("%s\n", v.bold("partition "+cty.NumberIntVal(p).AsBigFloat().String()+":"))
			part = p
		}
		if path == "" {
			// A partition without a file system, compared byte by byte.
			v.printf("%s (no file system: %s)\n", change, rawWords[change])
			continue
		}
		v.printf("%s %s%s\n", change, path, words[change])
	}
	if g.json {
		v.event("drive_diff_summary", map[string]any{"address": inst.Addr.String(), "changes": n})
	} else if n == 0 {
		v.printf("No differences between %s and its copy.\n", inst.Attrs.GetAttr("source").AsString())
	} else {
		v.printf("%s.\n", plural.Count(n, "difference"))
	}
	if n > 0 {
		return errDriveDifferences
	}
	return nil
}
