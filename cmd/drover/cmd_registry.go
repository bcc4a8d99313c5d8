package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

// registryProvider serves the registry actions.
const registryProvider = "registry"

// registryOptions are the flags of the registry commands.
type registryOptions struct {
	vars      varOptions
	host      string
	hive      string
	prefix    string
	key       string
	recursive bool
	out       string
	baseline  string
	encoding  string
	undo      string
	create    bool
	exitCode  bool
}

func (o *registryOptions) addLocationFlags(cmd *cobra.Command) {
	o.vars.addFlags(cmd)
	cmd.Flags().StringVar(&o.host, "host", "", "the host block of the configuration whose registry it is (`NAME`)")
	cmd.Flags().StringVar(&o.hive, "hive", "", "a hive file on the host (`PATH`), or \"live\" (the default)")
	cmd.Flags().StringVar(&o.prefix, "prefix", "", "the registry `PATH` a hive file is loaded at, e.g. HKEY_LOCAL_MACHINE\\SOFTWARE")
}

func (o *registryOptions) addKeyFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.key, "key", "", "the `KEY`: HKLM\\Software\\... live, \\Vendor\\... in a hive file")
	cmd.Flags().BoolVar(&o.recursive, "recursive", true, "include the keys below KEY")
}

func newRegistryCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Export, import and compare registry keys by hand",
		Long: `Ad-hoc registry work on a host of the configuration, done by the registry provider
(the same code that registry_capture and runbook imports run). The registry is a hive
file on the host (--hive PATH) or the live registry of the Windows machine Drover runs
on. Files named by the commands are on that host.

` + exitCodesHelp,
	}
	cmd.AddCommand(newRegistryExportCommand(g), newRegistryImportCommand(g), newRegistryDiffCommand(g))
	return cmd
}

func newRegistryExportCommand(g *globalOptions) *cobra.Command {
	o := &registryOptions{}
	cmd := &cobra.Command{
		Use:   "export [CAPTURE_ADDR] --host NAME [--hive PATH] --key KEY",
		Short: "Print a registry key as a .reg file, or write it on the host",
		Long: `Exports KEY (and the keys below it) as a .reg file: printed as UTF-8, or written on the
host with --out. Given the address of a registry_capture in the state, its host, hive,
prefix, key, baseline and encoding are the defaults.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRegistryExport(cmd.Context(), g, o, cmd, args)
		},
	}
	o.addLocationFlags(cmd)
	o.addKeyFlags(cmd)
	cmd.Flags().StringVar(&o.out, "out", "", "write the .reg file to `PATH` on the host instead of printing it")
	cmd.Flags().StringVar(&o.baseline, "baseline", "", "a .reg file of defaults on the host (`PATH`): export only what differs")
	cmd.Flags().StringVar(&o.encoding, "encoding", "", "of --out: `utf-16le` (the default) or utf-8")
	return cmd
}

func newRegistryImportCommand(g *globalOptions) *cobra.Command {
	o := &registryOptions{}
	cmd := &cobra.Command{
		Use:   "import FILE --host NAME [--hive PATH]",
		Short: "Import a .reg file on a host into its registry, saving an undo file first",
		Long: `Imports FILE, a .reg file on the host, into the host's registry: missing parent keys
are created, and everything the import overwrites or deletes is saved first as a .reg
file (--undo, default FILE with .undo.reg) that undoes it. A failure changes nothing.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRegistryImport(cmd.Context(), g, o, cmd, args[0])
		},
	}
	o.addLocationFlags(cmd)
	cmd.Flags().StringVar(&o.undo, "undo", "", "save the undo .reg file to `PATH` on the host")
	cmd.Flags().BoolVar(&o.create, "create", false, "create an empty hive file when --hive names a missing one")
	return cmd
}

func newRegistryDiffCommand(g *globalOptions) *cobra.Command {
	o := &registryOptions{}
	cmd := &cobra.Command{
		Use:   "diff [CAPTURE_ADDR | FILE --host NAME [--hive PATH] --key KEY]",
		Short: "List how a registry key differs from a .reg file (or from its last capture)",
		Long: `Compares KEY with FILE, a .reg file on the host: "+" is only in the registry, "-" only
in the file, "~" changed (file → registry). Given the address of a registry_capture in the
state, compares its key with its last capture.

Exit codes: 0 the same (or differences without --exit-code), 1 error,
2 differences found (with --exit-code).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRegistryDiff(cmd.Context(), g, o, cmd, args[0])
		},
	}
	o.addLocationFlags(cmd)
	o.addKeyFlags(cmd)
	cmd.Flags().StringVar(&o.baseline, "baseline", "", "a .reg file of defaults on the host (`PATH`): registry values equal to it are left out")
	cmd.Flags().BoolVar(&o.exitCode, "exit-code", false, "exit with 2 when there are differences")
	return cmd
}

// args gathers the action arguments: a capture's attributes from the
// state when addr is given, then the flags the command line set.
func (o *registryOptions) args(ctx context.Context, s *adhocSession, cmd *cobra.Command, addr string, fromState ...string) (map[string]cty.Value, error) {
	args := map[string]cty.Value{}
	if addr != "" {
		var err error
		if args, err = s.stateArgs(ctx, addr, fromState...); err != nil {
			return nil, err
		}
	}
	if o.host != "" {
		h, err := s.host(o.host)
		if err != nil {
			return nil, err
		}
		args["host"] = h
	}
	if _, ok := args["host"]; !ok {
		return nil, fmt.Errorf("name the host with --host NAME (a host block of the configuration)")
	}
	stringFlags(cmd, args, map[string]*string{"hive": &o.hive, "prefix": &o.prefix, "key": &o.key,
		"baseline": &o.baseline, "encoding": &o.encoding, "undo": &o.undo})
	if f := cmd.Flags().Lookup("recursive"); f != nil && f.Changed {
		args["recursive"] = cty.BoolVal(o.recursive)
	}
	return args, nil
}

func runRegistryExport(ctx context.Context, g *globalOptions, o *registryOptions, cmd *cobra.Command, pos []string) error {
	s, err := newAdhocSession(g, &o.vars)
	if err != nil {
		return err
	}
	defer s.close()
	addr := ""
	if len(pos) == 1 {
		addr = pos[0]
	}
	args, err := o.args(ctx, s, cmd, addr, "host", "hive", "prefix", "key", "recursive", "baseline", "encoding")
	if err != nil {
		return err
	}
	if o.out != "" {
		args["file"] = cty.StringVal(o.out)
	}
	res, err := invokeAction(ctx, s.v, s.reg, "registry export", registryProvider, "registry_export", args)
	if err != nil {
		return err
	}
	keys, values := number(res.GetAttr("keys")), number(res.GetAttr("values"))
	if s.v.json {
		s.v.event("registry_export", map[string]any{"keys": keys, "values": values, "file": o.out, "content": res.GetAttr("content").AsString()})
		return nil
	}
	if o.out != "" {
		s.v.printf("Exported %s in %s to %s.\n", countOf(values, "value"), countOf(keys, "key"), o.out)
		return nil
	}
	s.v.printf("%s", res.GetAttr("content").AsString())
	return nil
}

func runRegistryImport(ctx context.Context, g *globalOptions, o *registryOptions, cmd *cobra.Command, file string) error {
	s, err := newAdhocSession(g, &o.vars)
	if err != nil {
		return err
	}
	defer s.close()
	args, err := o.args(ctx, s, cmd, "")
	if err != nil {
		return err
	}
	args["file"] = cty.StringVal(file)
	if o.create {
		args["create"] = cty.True
	}
	res, err := invokeAction(ctx, s.v, s.reg, "registry import", registryProvider, "registry_import", args)
	if err != nil {
		return err
	}
	keys, values := number(res.GetAttr("keys")), number(res.GetAttr("values"))
	undo := res.GetAttr("undo").AsString()
	if s.v.json {
		s.v.event("registry_import", map[string]any{"file": file, "keys": keys, "values": values, "undo": undo})
		return nil
	}
	s.v.printf("Imported %s in %s from %s; the undo file is %s.\n", countOf(values, "value"), countOf(keys, "key"), file, undo)
	return nil
}

func runRegistryDiff(ctx context.Context, g *globalOptions, o *registryOptions, cmd *cobra.Command, arg string) error {
	s, err := newAdhocSession(g, &o.vars)
	if err != nil {
		return err
	}
	defer s.close()
	addr := ""
	if strings.HasPrefix(arg, "registry_capture.") {
		addr = arg
	}
	args, err := o.args(ctx, s, cmd, addr, "host", "hive", "prefix", "key", "recursive", "file", "baseline")
	if err != nil {
		return err
	}
	if addr == "" {
		args["file"] = cty.StringVal(arg)
	}
	res, err := invokeAction(ctx, s.v, s.reg, "registry diff", registryProvider, "registry_diff", args)
	if err != nil {
		return err
	}
	var changes []string
	for _, c := range res.GetAttr("changes").AsValueSlice() {
		changes = append(changes, c.AsString())
	}
	if s.v.json {
		s.v.event("registry_diff", map[string]any{"changes": changes})
	} else if len(changes) == 0 {
		s.v.printf("No differences.\n")
	} else {
		s.v.printf("%s\n", strings.Join(changes, "\n"))
	}
	if o.exitCode && len(changes) > 0 {
		return errChanges
	}
	return nil
}

func number(v cty.Value) int64 {
	n, _ := v.AsBigFloat().Int64()
	return n
}

func countOf(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
