package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

func newProvidersCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "providers",
		Short: "List the providers and the types they serve",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return runProviders(cmd.Context(), g) },
	}
}

func runProviders(ctx context.Context, g *globalOptions) error {
	v := g.newView()
	reg, err := registry(quietConfig())
	if err != nil {
		return err
	}
	defer reg.Close()
	for _, name := range reg.Names() {
		_, s, err := reg.Get(ctx, name)
		if err != nil {
			return err
		}
		list := func(kind string, names []string) {
			sort.Strings(names)
			if len(names) > 0 {
				if v.json {
					return
				}
				fmt.Fprintf(v.out, "  %s: %s\n", kind, strings.Join(names, ", "))
			}
		}
		var res, data, actions []string
		for n := range s.ResourceTypes {
			res = append(res, n)
		}
		for n := range s.DataSources {
			data = append(data, n)
		}
		for n := range s.Actions {
			actions = append(actions, n)
		}
		if v.json {
			sort.Strings(res)
			sort.Strings(data)
			sort.Strings(actions)
			v.event("provider", map[string]any{"name": name, "resource_types": res, "data_sources": data, "actions": actions})
			continue
		}
		fmt.Fprintf(v.out, "%s\n", name)
		list("resources", res)
		list("data sources", data)
		list("actions", actions)
	}
	return nil
}
