package main

import (
	"fmt"
	"runtime"

	"github.com/drover-dr/drover/providers/plugin"
	"github.com/spf13/cobra"
)

func newVersionCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the Drover version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := g.newView()
			if v.json {
				v.event("version", map[string]any{"version": Version, "provider_protocol": plugin.ProtocolVersion, "go": runtime.Version()})
				return nil
			}
			fmt.Fprintf(v.out, "Drover v%s\nprovider protocol %d\n%s %s/%s\n", Version, plugin.ProtocolVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
