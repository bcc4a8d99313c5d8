package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newForceUnlockCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "force-unlock LOCK_ID",
		Short: "Remove a state lock left by a process that died",
		Long:  "Removes the state lock with the given ID. It refuses while the holder is still running.\n\n" + exitCodesHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := g.newView()
			b, err := backend(v, quietConfig())
			if err != nil {
				return err
			}
			if err := b.ForceUnlock(args[0]); err != nil {
				return err
			}
			fmt.Fprintln(v.out, "The state lock was removed.")
			return nil
		},
	}
}
