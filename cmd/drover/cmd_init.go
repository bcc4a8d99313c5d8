package main

import (
	"fmt"
	"sort"

	"github.com/drover-dr/drover/providers/builtin"
	"github.com/drover-dr/drover/providers/discovery"
	"github.com/spf13/cobra"
)

type initOptions struct {
	upgrade bool
}

func newInitCommand(g *globalOptions) *cobra.Command {
	o := &initOptions{}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Find the providers the configuration needs and pin them",
		Long: `Finds every third-party provider listed in required_providers in the plugin folders
(.drover/plugins, then ~/.drover.d/plugins, laid out as SOURCE/VERSION/drover-provider-NAME),
and records its version and checksum in drover.lock.json. Plan and apply refuse a
provider binary that no longer matches. Built-in providers need nothing.

` + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runInit(g, o) },
	}
	cmd.Flags().BoolVar(&o.upgrade, "upgrade", false, "pick the newest matching versions again, replacing the pins")
	return cmd
}

func runInit(g *globalOptions, o *initOptions) error {
	v := g.newView()
	cfg, err := loadConfig(v)
	if err != nil {
		return err
	}
	lock, err := discovery.ReadLock(".")
	if err != nil {
		return err
	}
	var names []string
	if cfg.Drover != nil {
		for name := range cfg.Drover.RequiredProviders {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	dirs := discovery.Dirs(".")
	changed := false
	for _, name := range names {
		req := cfg.Drover.RequiredProviders[name]
		if builtin.Provider(name) != nil {
			v.printf("- %s: built in\n", name)
			continue
		}
		if req.Source == "" {
			return v.errorf("Provider without a source", "required_providers.%s needs a source, e.g. source = \"example.com/acme/%s\".", name, name)
		}
		if locked, ok := lock.Providers[name]; ok && !o.upgrade && locked.Source == req.Source {
			if err := discovery.Verify(name, locked); err != nil {
				return err
			}
			v.printf("- %s: %s %s (locked)\n", name, locked.Source, locked.Version)
			continue
		}
		found, err := discovery.Find(dirs, discovery.Requirement{Name: name, Source: req.Source, Version: req.Version})
		if err != nil {
			return err
		}
		lock.Providers[name] = found
		changed = true
		v.printf("- %s: %s %s (%s)\n", name, found.Source, found.Version, found.Path)
	}
	for name := range lock.Providers {
		if cfg.Drover == nil || cfg.Drover.RequiredProviders[name] == nil {
			delete(lock.Providers, name)
			changed = true
		}
	}
	if changed {
		if err := discovery.WriteLock(".", lock); err != nil {
			return fmt.Errorf("writing %s: %w", discovery.LockFileName, err)
		}
		v.printf("Recorded the providers in %s; commit it with the configuration.\n", discovery.LockFileName)
	}
	v.printf("%s\n", v.green("Drover is initialised."))
	return nil
}
