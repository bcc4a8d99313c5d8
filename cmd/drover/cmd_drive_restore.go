package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

type driveRestoreOptions struct {
	partition int
	path, to  string
}

func newDriveRestoreCommand(g *globalOptions) *cobra.Command {
	o := &driveRestoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore ADDR --partition N | --path P [--to DEST]",
		Short: "Restore a partition, a folder or a file from a drive's copy",
		Long: `With --partition N alone, writes partition N of the copy back over the same partition of
the source (or to DEST: a drive, or a file created at the partition's size), writing only
the chunks that differ; a mounted destination is refused. With --path P, copies the file or
folder P of the copy's file system (on partition N, needed when the copy has several) back
into the source's file system, or to DEST, keeping owners, modes and times.

The copy must be complete: an interrupted or tainted copy is refused with what to do.

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runDriveRestore(cmd.Context(), g, o, args[0]) },
	}
	cmd.Flags().IntVar(&o.partition, "partition", 0, "the partition `N` to restore, or that holds --path")
	cmd.Flags().StringVar(&o.path, "path", "", "the file or folder `P` to restore")
	cmd.Flags().StringVar(&o.to, "to", "", "restore to `DEST` instead of the source")
	return cmd
}

func runDriveRestore(ctx context.Context, g *globalOptions, o *driveRestoreOptions, addr string) error {
	if o.partition == 0 && o.path == "" {
		return errors.New("say what to restore: --partition N, or --path P")
	}
	v := g.newView()
	inst, args, err := driveCopy(ctx, v, addr)
	if err != nil {
		return err
	}
	if o.partition > 0 {
		args["partition"] = cty.NumberIntVal(int64(o.partition))
	}
	if o.path != "" {
		args["path"] = cty.StringVal(o.path)
	}
	if o.to != "" {
		args["to"] = cty.StringVal(o.to)
	}
	reg, err := registry(quietConfig())
	if err != nil {
		return err
	}
	defer reg.Close()
	res, err := invokeAction(ctx, v, reg, inst.Addr.String(), inst.Provider, "drive_restore", args)
	if err != nil {
		return err
	}
	what := res.GetAttr("restored").AsString()
	written, _ := res.GetAttr("bytes_written").AsBigFloat().Int64()
	if g.json {
		v.event("drive_restored", map[string]any{"address": inst.Addr.String(), "restored": what, "bytes_written": written})
		return nil
	}
	v.printf("Restored %s.\n", what)
	return nil
}
