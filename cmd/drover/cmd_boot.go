package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

// diskProvider serves the boot actions.
const diskProvider = "disk"

// bootOptions are the flags of the boot commands.
type bootOptions struct {
	vars     varOptions
	host     string
	loader   string
	file     string
	label    string
	path     string
	command  []string
	probe    []string
	timeout  string
	interval string
}

func newBootCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "boot",
		Short: "Switch a host's boot entry or reboot it, by hand",
		Long: `Ad-hoc boot work on a host of the configuration, done by the disk provider (the same
code that boot_entry and runbook steps run).

` + exitCodesHelp,
	}
	cmd.AddCommand(newBootSwitchCommand(g, "set-default", "boot_set_default", "Make a boot entry the default"),
		newBootSwitchCommand(g, "set-next", "boot_set_next", "Make a boot entry boot once, at the next boot"),
		newBootRebootCommand(g))
	return cmd
}

func newBootSwitchCommand(g *globalOptions, use, action, short string) *cobra.Command {
	o := &bootOptions{}
	cmd := &cobra.Command{
		Use:   use + " [BOOT_ENTRY_ADDR | --host NAME --loader LOADER (--path P | --label L)]",
		Short: short,
		Long: short + `: the entry of a boot_entry in the state (ADDR), or the one the flags name.
Prints the previous default, to switch back.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBootSwitch(cmd.Context(), g, o, cmd, action, args)
		},
	}
	o.vars.addFlags(cmd)
	cmd.Flags().StringVar(&o.host, "host", "", "the host block of the configuration (`NAME`)")
	cmd.Flags().StringVar(&o.loader, "loader", "", "bootini, grub, bcd or efi")
	cmd.Flags().StringVar(&o.file, "file", "", "where the loader's menu is on the host (`PATH`)")
	cmd.Flags().StringVar(&o.label, "label", "", "the entry's label or description")
	cmd.Flags().StringVar(&o.path, "path", "", "the entry's ARC path, BCD GUID or EFI BootXXXX")
	return cmd
}

func runBootSwitch(ctx context.Context, g *globalOptions, o *bootOptions, cmd *cobra.Command, action string, pos []string) error {
	s, err := newAdhocSession(g, &o.vars)
	if err != nil {
		return err
	}
	defer s.close()
	args := map[string]cty.Value{}
	label := action
	if len(pos) == 1 {
		label = pos[0]
		if args, err = s.stateArgs(ctx, pos[0], "host", "loader", "file", "label", "path"); err != nil {
			return err
		}
	}
	if o.host != "" {
		if args["host"], err = s.host(o.host); err != nil {
			return err
		}
	}
	if _, ok := args["host"]; !ok {
		return fmt.Errorf("give the address of a boot_entry in the state, or --host NAME --loader LOADER and --path or --label")
	}
	stringFlags(cmd, args, map[string]*string{"loader": &o.loader, "file": &o.file, "label": &o.label, "path": &o.path})
	res, err := invokeAction(ctx, s.v, s.reg, label, diskProvider, action, args)
	if err != nil {
		return err
	}
	entry, previous := res.GetAttr("entry").AsString(), res.GetAttr("previous").AsString()
	if s.v.json {
		s.v.event(strings.ReplaceAll(action, "_", "-"), map[string]any{"entry": entry, "previous": previous})
		return nil
	}
	if action == "boot_set_next" {
		s.v.printf("The next boot starts %s (the default stays %s).\n", entry, previous)
		return nil
	}
	s.v.printf("The default boot entry is now %s (it was %s).\n", entry, previous)
	return nil
}

func newBootRebootCommand(g *globalOptions) *cobra.Command {
	o := &bootOptions{}
	cmd := &cobra.Command{
		Use:   "reboot HOST",
		Short: "Reboot a host and wait until it has booted again",
		Long: `Runs --command on HOST (a host block of the configuration) and waits until --probe
answers with another output than before the reboot, or --timeout passes.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBootReboot(cmd.Context(), g, o, args[0])
		},
	}
	o.vars.addFlags(cmd)
	cmd.Flags().StringArrayVar(&o.command, "command", nil, "one word of the reboot argv (repeat; default: shutdown -r now)")
	cmd.Flags().StringArrayVar(&o.probe, "probe", nil, "one word of the probe argv, whose output changes with each boot (repeat; default: cat /proc/sys/kernel/random/boot_id)")
	cmd.Flags().StringVar(&o.timeout, "timeout", "10m", "how long to wait for the host (`DURATION`)")
	cmd.Flags().StringVar(&o.interval, "interval", "5s", "how often to probe (`DURATION`)")
	return cmd
}

func runBootReboot(ctx context.Context, g *globalOptions, o *bootOptions, hostName string) error {
	s, err := newAdhocSession(g, &o.vars)
	if err != nil {
		return err
	}
	defer s.close()
	h, err := s.host(hostName)
	if err != nil {
		return err
	}
	args := map[string]cty.Value{"host": h, "timeout": cty.StringVal(o.timeout), "interval": cty.StringVal(o.interval)}
	for name, words := range map[string][]string{"command": o.command, "probe": o.probe} {
		if len(words) > 0 {
			var vs []cty.Value
			for _, w := range words {
				vs = append(vs, cty.StringVal(w))
			}
			args[name] = cty.ListVal(vs)
		}
	}
	res, err := invokeAction(ctx, s.v, s.reg, "reboot "+hostName, diskProvider, "host_reboot", args)
	if err != nil {
		return err
	}
	secs, _ := res.GetAttr("seconds").AsBigFloat().Float64()
	if s.v.json {
		s.v.event("host_reboot", map[string]any{"host": hostName, "seconds": secs})
		return nil
	}
	s.v.printf("%s is back after %.1fs.\n", hostName, secs)
	return nil
}
