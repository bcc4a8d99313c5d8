package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

type driveRestoreOptions struct {
	partition         int
	path, to, undo    string
	undoFile          string
	autoApprove, keep bool
}

func newDriveRestoreCommand(g *globalOptions) *cobra.Command {
	o := &driveRestoreOptions{}
	var noUndo bool
	cmd := &cobra.Command{
		Use:   "restore ADDR --partition N | --path P [--to DEST] | --undo FILE",
		Short: "Restore a partition, a folder or a file from a drive's copy",
		Long: `With --partition N alone, writes partition N of the copy back over the same partition of
the source (or to DEST: a drive, or a file created at the partition's size), writing only
the chunks that differ; a mounted destination is refused. It first says how much it would
overwrite and asks for "yes" (--auto-approve does not ask), and keeps what it overwrites in
an undo file beside the copy's manifest (not with --no-undo); --undo FILE puts that back.
With --path P, copies the file or folder P of the copy's file system (on partition N, needed
when the copy has several) back into the source's file system, or to DEST, keeping owners,
modes and times. Into the source, it first lists the files it overwrites and creates (those
drive diff shows as changed or deleted since the copy; files new since stay) and asks for
"yes", and keeps the files it overwrites in an undo folder beside the manifest (not with
--no-undo); --undo FOLDER puts them back and removes the files it created.

The copy must be complete: an interrupted or tainted copy is refused with what to do.

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.keep = !noUndo
			return runDriveRestore(cmd.Context(), g, o, args[0])
		},
	}
	cmd.Flags().IntVar(&o.partition, "partition", 0, "the partition `N` to restore, or that holds --path")
	cmd.Flags().StringVar(&o.path, "path", "", "the file or folder `P` to restore")
	cmd.Flags().StringVar(&o.to, "to", "", "restore to `DEST` instead of the source")
	cmd.Flags().BoolVar(&o.autoApprove, "auto-approve", false, "restore without asking")
	cmd.Flags().BoolVar(&noUndo, "no-undo", false, "keep no undo of what a restore overwrites")
	cmd.Flags().StringVar(&o.undoFile, "undo-file", "", "keep the undo of a restore in `FILE` (a new file, or folder for --path) instead of beside the copy's manifest")
	cmd.Flags().StringVar(&o.undo, "undo", "", "put back what the restore that wrote the undo file or folder `FILE` overwrote")
	return cmd
}

func runDriveRestore(ctx context.Context, g *globalOptions, o *driveRestoreOptions, addr string) error {
	if o.partition == 0 && o.path == "" && o.undo == "" {
		return errors.New("say what to restore: --partition N, or --path P (or --undo FILE to put back what a restore overwrote)")
	}
	if o.undoFile != "" && (o.path != "" && o.to != "" || !o.keep) {
		return errors.New("--undo-file is where a restore over the source keeps what it overwrites: give it without --to and --no-undo")
	}
	if o.undo != "" && (o.partition > 0 || o.path != "" || o.to != "") {
		return errors.New("--undo FILE puts back what an earlier restore overwrote, where it overwrote it: give it alone")
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
	var changes []cty.Value // of a preview of --path: what it overwrites and creates
	invoke := func(extra map[string]cty.Value) (what string, written, overwrites int64, err error) {
		all := map[string]cty.Value{}
		for k, val := range args {
			all[k] = val
		}
		for k, val := range extra {
			all[k] = val
		}
		res, err := invokeAction(ctx, v, reg, inst.Addr.String(), inst.Provider, "drive_restore", all)
		if err != nil {
			return "", 0, 0, err
		}
		written, _ = res.GetAttr("bytes_written").AsBigFloat().Int64()
		overwrites, _ = res.GetAttr("overwrites").AsBigFloat().Int64()
		changes = res.GetAttr("changes").AsValueSlice()
		return res.GetAttr("restored").AsString(), written, overwrites, nil
	}
	undoFile := ""
	switch {
	case o.undo != "":
		if err := approve(v, o, fmt.Sprintf("Put back what the restore overwrote, from %s?", o.undo)); err != nil {
			return err
		}
		args["put_back"] = cty.StringVal(o.undo)
	case o.path != "" && o.to == "":
		// Files over the source's: list them, ask, keep an undo folder.
		what, _, _, err := invoke(map[string]cty.Value{"preview": cty.True})
		if err != nil {
			return err
		}
		if len(changes) > 0 && o.keep {
			undoFile = o.undoFile
			if undoFile == "" {
				manifest := args["manifest"].AsString()
				undoFile = fmt.Sprintf("%s.restore-path-%s.undo", strings.TrimSuffix(manifest, ".blocks"), time.Now().UTC().Format("20060102T150405Z"))
			}
			args["undo_file"] = cty.StringVal(undoFile)
		}
		if g.json {
			for _, c := range changes {
				n, _ := c.GetAttr("partition").AsBigFloat().Int64()
				v.event("drive_change", map[string]any{"address": inst.Addr.String(), "partition": n,
					"path": c.GetAttr("path").AsString(), "change": c.GetAttr("change").AsString()})
			}
		} else {
			switch {
			case len(changes) == 0:
				v.printf("Restoring %s overwrites nothing: the source has the copy's files.\n", what)
			default:
				v.printf("Restoring %s:\n", what)
				for _, c := range changes {
					verb := "overwrites"
					if c.GetAttr("change").AsString() == "-" {
						verb = "creates   " // deleted since the copy
					}
					v.printf("  %s %s\n", verb, c.GetAttr("path").AsString())
				}
				if undoFile != "" {
					v.printf("What it overwrites is kept in %s.\n", undoFile)
				} else {
					v.printf("With --no-undo, what it overwrites is not kept.\n")
				}
			}
		}
		if len(changes) == 0 {
			if g.json {
				v.event("drive_restored", map[string]any{"address": inst.Addr.String(), "restored": what, "bytes_written": 0})
			}
			return nil
		}
		if err := approve(v, o, "Overwrite them?"); err != nil {
			return err
		}
	case o.path == "":
		// A partition: show what it overwrites, ask, keep an undo.
		what, _, overwrites, err := invoke(map[string]cty.Value{"preview": cty.True})
		if err != nil {
			return err
		}
		switch {
		case overwrites == 0 || !o.keep:
		case o.undoFile != "":
			undoFile = o.undoFile
		default:
			manifest := args["manifest"].AsString()
			undoFile = fmt.Sprintf("%s.restore-%d-%s.undo", strings.TrimSuffix(manifest, ".blocks"), o.partition, time.Now().UTC().Format("20060102T150405Z"))
		}
		if undoFile != "" {
			args["undo_file"] = cty.StringVal(undoFile)
		}
		if !g.json {
			switch {
			case overwrites == 0:
				v.printf("Restoring %s overwrites nothing.\n", what)
			case undoFile != "":
				v.printf("Restoring %s.\nWhat it overwrites is kept in %s.\n", what, undoFile)
			default:
				v.printf("Restoring %s.\nWith --no-undo, what it overwrites is not kept.\n", what)
			}
		}
		if overwrites > 0 {
			if err := approve(v, o, "Overwrite it?"); err != nil {
				return err
			}
		}
	}
	what, written, _, err := invoke(nil)
	if err != nil {
		return err
	}
	if g.json {
		ev := map[string]any{"address": inst.Addr.String(), "restored": what, "bytes_written": written}
		if undoFile != "" {
			ev["undo_file"] = undoFile
		}
		v.event("drive_restored", ev)
		return nil
	}
	if o.undo != "" {
		v.printf("Put back %s.\n", what)
		return nil
	}
	v.printf("Restored %s.\n", what)
	if undoFile != "" {
		v.printf("To put back what it overwrote: drover drive restore %s --undo %s\n", inst.Addr, undoFile)
	}
	return nil
}

// approve asks question unless --auto-approve.
func approve(v *view, o *driveRestoreOptions, question string) error {
	if o.autoApprove {
		return nil
	}
	if v.json {
		return errors.New("--json needs --auto-approve: there is no one to ask")
	}
	if err := ask(v, question); err != nil {
		return errors.New("restore cancelled: the answer was not \"yes\"")
	}
	return nil
}
