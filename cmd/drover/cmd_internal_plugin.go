package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/drover-dr/drover/cmd/drover/internal/prelaunch"
	"github.com/drover-dr/drover/internal/warmup"
	"github.com/drover-dr/drover/providers/builtin"
	"github.com/drover-dr/drover/providers/plugin/spare"
	"github.com/spf13/cobra"
)

// newInternalPluginCommand serves a built-in provider as a go-plugin
// plugin; Drover starts its own binary this way for each built-in.
func newInternalPluginCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "internal-plugin NAME",
		Hidden:            true,
		Args:              cobra.ExactArgs(1),
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			go exitWithParent()
			return builtin.Serve(args[0])
		},
	}
}

// newInternalSpareCommand waits as a spare process (package spare) for the
// built-in provider it is to serve.
func newInternalSpareCommand() *cobra.Command {
	return &cobra.Command{
		Use:               prelaunch.SpareCommand,
		Hidden:            true,
		Args:              cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			orders, err := spare.Receive()
			switch {
			case errors.Is(err, spare.ErrUnused):
				return nil
			case err != nil:
				return err
			case len(orders) != 2 || orders[0] != "internal-plugin":
				return fmt.Errorf("a spare process serves a built-in provider (internal-plugin NAME), not %q", orders)
			}
			warmup.Inherit()
			go exitWithParent()
			return builtin.Serve(orders[1])
		},
	}
}

// parentPoll is how often a plugin process looks whether Drover is gone.
const parentPoll = 250 * time.Millisecond

// exitWithParent ends the plugin process once the Drover process that
// started it is gone (killed with SIGKILL, say): nothing else will call
// it, and it would stay forever. Its calls in flight were already
// cancelled when the connection dropped, their commands killed.
func exitWithParent() {
	parent := os.Getppid()
	for range time.Tick(parentPoll) {
		if os.Getppid() != parent {
			os.Exit(1)
		}
	}
}
