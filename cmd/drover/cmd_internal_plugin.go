package main

import (
	"github.com/drover-dr/drover/providers/builtin"
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
			return builtin.Serve(args[0])
		},
	}
}
