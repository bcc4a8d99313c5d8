package main

import (
	"context"
	"fmt"

	"github.com/drover-dr/drover/state"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

func newDriveCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drive",
		Short: "Look into and restore from the copies of drive_copy resources",
	}
	cmd.AddCommand(newDriveDiffCommand(g), newDriveRestoreCommand(g))
	return cmd
}

// driveCopy reads the drive_copy at addr from the state and returns the
// provider serving it and the arguments every drive action takes.
func driveCopy(ctx context.Context, v *view, addr string) (*state.Instance, map[string]cty.Value, error) {
	inst, err := stateInstance(ctx, v, addr)
	if err != nil {
		return nil, nil, err
	}
	if inst.Addr.Type != "drive_copy" {
		return nil, nil, fmt.Errorf("%s is a %s; drive commands work on drive_copy resources", inst.Addr, inst.Addr.Type)
	}
	if inst.Status == state.Tainted {
		return nil, nil, v.errorf("Copy is tainted",
			"The last copy of %s failed (its verify found differences, or it was interrupted) and is not trusted. Make a full copy with `drover apply --replace %s`.",
			inst.Addr, inst.Addr)
	}
	args := map[string]cty.Value{}
	for _, name := range []string{"host", "source", "target", "manifest"} {
		args[name] = inst.Attrs.GetAttr(name)
	}
	return inst, args, nil
}
