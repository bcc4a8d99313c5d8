package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"

	"github.com/drover-dr/drover/cmd/drover/internal/prelaunch"
	"github.com/drover-dr/drover/internal/suggest"
	"github.com/drover-dr/drover/providers/plugin/spare"
	"github.com/drover-dr/drover/state"
	"github.com/spf13/cobra"
)

// Exit codes. They are part of the interface: scripts and CI rely on them.
const (
	exitOK          = 0
	exitError       = 1
	exitChanges     = 2 // plan --detailed-exitcode: the plan has changes
	exitLocked      = 3 // the state is locked by another process
	exitInterrupted = 130
)

const exitCodesHelp = `Exit codes:
  0    success (with plan --detailed-exitcode: no changes)
  1    error
  2    plan --detailed-exitcode: the plan has changes; verify: the replica differs;
       drive diff: the drive differs from its copy; report diff: the later run
       has regressions
  3    the state is locked by another process
  130  interrupted`

// errChanges reports a successful plan with changes under --detailed-exitcode.
var errChanges = errors.New("the plan has changes")

// errReported is returned when diagnostics were already shown.
var errReported = errors.New("errors were reported")

func main() {
	in := newInterrupts()
	stopProfile := profile()
	root := newRootCommand(in)
	err := root.Execute()
	spare.Release()
	stopProfile()
	in.exit(err)
}

// profile writes a CPU profile to DROVER_CPUPROFILE, for performance work.
// Plugin processes inherit the variable: each writes FILE.plugin-NAME
// beside the command's own FILE. An agent given it (by its sshd's SetEnv,
// as bench/remote.sh does with PROFILE_AGENTS=1) writes FILE.agent-PID.
func profile() func() {
	path := os.Getenv("DROVER_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	switch {
	case len(os.Args) == 3 && os.Args[1] == "internal-plugin":
		path += ".plugin-" + os.Args[2]
	case len(os.Args) == 2 && os.Args[1] == prelaunch.SpareCommand:
		path += ".plugin-spare"
	case len(os.Args) == 2 && os.Args[1] == agentCommand:
		path += fmt.Sprintf(".agent-%d", os.Getpid())
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Warning: DROVER_CPUPROFILE: %v\n", err)
		return func() {}
	}
	pprof.StartCPUProfile(f)
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// exitCode is the exit code of a run that returned err; interrupted says
// whether a signal cancelled it.
func exitCode(interrupted bool, err error) int {
	var lockErr *state.LockError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errChanges):
		return exitChanges
	case errors.As(err, &lockErr):
		fmt.Fprintf(os.Stderr, "Error: %v\n\nWait for the other run to finish, retry with --lock-timeout=DURATION, "+
			"or, if that process is gone, run `drover force-unlock %s`.\n", err, lockErr.Info.ID)
		return exitLocked
	case interrupted:
		if !errors.Is(err, errReported) {
			fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		}
		return exitInterrupted
	case errors.Is(err, errReported):
		return exitError
	default:
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		return exitError
	}
}

// changeDir is --chdir: it moves to dir and sets $PWD to it, as a shell's
// cd does, for the plugins and commands drover starts. A $PWD left naming
// the folder drover was started in is wrong for them, and makes each of
// their os.Getwd calls pay a syscall more to find it out.
func changeDir(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("--chdir: %w", err)
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("--chdir: %w", err)
	}
	return os.Setenv("PWD", abs)
}

// newRootCommand is the drover command; in watches the signals of the
// command it runs (but not of the internal ones, which are plugins).
func newRootCommand(in *interrupts) *cobra.Command {
	g := &globalOptions{interrupts: in}
	root := &cobra.Command{
		Use:   "drover",
		Short: "Disaster recovery as code: plan and apply drives, replication, registry, boot and failover runbooks",
		Long: `Drover reads *.dr.hcl files describing what keeps servers recoverable, compares them
with the current state, shows exactly what would change, and applies it through
provider plugins.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetContext(in.watch(cmd.Context(), cmd))
			if g.chdir != "" {
				return changeDir(g.chdir)
			}
			return nil
		},
	}
	g.addFlags(root)
	root.SetFlagErrorFunc(singleDashHint)
	root.AddCommand(
		newInitCommand(g),
		newValidateCommand(g),
		newFmtCommand(g),
		newPlanCommand(g),
		newApplyCommand(g, false),
		newApplyCommand(g, true),
		newShowCommand(g),
		newGraphCommand(g),
		newStateCommand(g),
		newImportCommand(g),
		newDriveCommand(g),
		newReplicateCommand(g),
		newVerifyCommand(g),
		newOutputCommand(g),
		newProvidersCommand(g),
		newHostsCommand(g),
		newVersionCommand(g),
		newForceUnlockCommand(g),
		newRegistryCommand(g),
		newBootCommand(g),
		newFailoverCommand(g, "failover"),
		newFailoverCommand(g, "failback"),
		newRunbookCommand(g),
		newDrillCommand(g),
		newReportCommand(g),
		newWatchCommand(g),
		newInternalPluginCommand(),
		newInternalSpareCommand(),
		newInternalAgentCommand(),
	)
	requireSubcommands(root)
	return root
}

// requireSubcommands makes every command that only groups subcommands
// (state, registry, drive, boot) refuse an unknown one with exit 1: cobra
// would print the group's help and exit 0, so a typo in a script passed.
// Without arguments the group still prints its help.
func requireSubcommands(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		requireSubcommands(sub)
	}
	if cmd.Runnable() || !cmd.HasSubCommands() || !cmd.HasParent() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		var names []string
		for _, sub := range cmd.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		hint := ""
		if near := suggest.Nearest(args[0], names); near != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", near)
		}
		return fmt.Errorf("unknown command %q for %q%s; its subcommands are %s",
			args[0], cmd.CommandPath(), hint, strings.Join(names, ", "))
	}
}

// singleDash finds a long flag given with one dash, as Terraform takes
// them, in pflag's complaint about an unknown shorthand.
var singleDash = regexp.MustCompile(`unknown shorthand flag: '.' in -([a-z][a-z0-9-]+)`)

// singleDashHint adds the two-dash spelling to the error of a long flag
// given with one dash (-auto-approve), when the command has that flag.
func singleDashHint(cmd *cobra.Command, err error) error {
	if m := singleDash.FindStringSubmatch(err.Error()); m != nil && cmd.Flags().Lookup(m[1]) != nil {
		return fmt.Errorf("%w: Drover's flags take two dashes, --%s", err, m[1])
	}
	return err
}
