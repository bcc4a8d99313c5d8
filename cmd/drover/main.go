package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"sync"
	"syscall"

	"github.com/drover-dr/drover/cmd/drover/internal/prelaunch"
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
       drive diff: the drive differs from its copy
  3    the state is locked by another process
  130  interrupted`

// errChanges reports a successful plan with changes under --detailed-exitcode.
var errChanges = errors.New("the plan has changes")

// errReported is returned when diagnostics were already shown.
var errReported = errors.New("errors were reported")

func main() {
	ctx, stop := interruptContext()
	defer stop()
	stopProfile := profile()
	root := newRootCommand()
	err := root.ExecuteContext(ctx)
	spare.Release()
	stopProfile()
	os.Exit(exitCode(ctx, err))
}

// profile writes a CPU profile to DROVER_CPUPROFILE, for performance work.
// Plugin processes inherit the variable: each writes FILE.plugin-NAME
// beside the command's own FILE.
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
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Warning: DROVER_CPUPROFILE: %v\n", err)
		return func() {}
	}
	pprof.StartCPUProfile(f)
	return func() { pprof.StopCPUProfile(); f.Close() }
}

func exitCode(ctx context.Context, err error) int {
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
	case ctx.Err() != nil:
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

// interruptContext is cancelled by the first SIGINT or SIGTERM: running
// steps finish and nothing new starts. A second signal exits at once; the
// state journal keeps every change that finished.
func interruptContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "\nInterrupt received: letting running steps finish. Press Ctrl-C again to stop at once.")
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "Stopping at once. Finished changes are in the state journal; run plan or apply again to continue.")
		runStopNow()
		os.Exit(exitInterrupted)
	}()
	return ctx, func() { signal.Stop(sigs); cancel() }
}

// stopNow holds what must happen at a second interrupt before the exit:
// a runbook run kills the process groups of its running steps there, which
// would otherwise outlive Drover.
var stopNow struct {
	sync.Mutex
	fns []func()
}

// atStopNow registers f to run at a second interrupt.
func atStopNow(f func()) {
	stopNow.Lock()
	stopNow.fns = append(stopNow.fns, f)
	stopNow.Unlock()
}

func runStopNow() {
	stopNow.Lock()
	defer stopNow.Unlock()
	for _, f := range stopNow.fns {
		f()
	}
}

func newRootCommand() *cobra.Command {
	g := &globalOptions{}
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
			if g.chdir != "" {
				if err := os.Chdir(g.chdir); err != nil {
					return fmt.Errorf("--chdir: %w", err)
				}
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
		newVersionCommand(g),
		newForceUnlockCommand(g),
		newRegistryCommand(g),
		newBootCommand(g),
		newFailoverCommand(g, "failover"),
		newFailoverCommand(g, "failback"),
		newRunbookCommand(g),
		newInternalPluginCommand(),
		newInternalSpareCommand(),
	)
	return root
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
