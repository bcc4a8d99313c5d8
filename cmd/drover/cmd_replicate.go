package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/state"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

// replicateOptions are the flags of `drover replicate`.
type replicateOptions struct {
	rescan string
}

func (o *replicateOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.rescan, "rescan", "", "compare everything this often, e.g. `10m` (the default), for changes no event reported")
}

func newReplicateCommand(g *globalOptions) *cobra.Command {
	o := &replicateOptions{}
	cmd := &cobra.Command{
		Use:   "replicate ADDR...",
		Short: "Keep replication sets mirrored continuously until stopped",
		Long: `Mirrors each replication set named (addresses as in the state, e.g.
replication_set.repset) once whole, then watches its sources and sends every change
within about a second, bursts coalesced. The lag (the age of the oldest change not yet
on the target: the data-loss window) is reported as it runs; --json gives one
action_progress event per report. Ctrl-C or SIGTERM stops it cleanly: the files being
sent keep their previous copy, nothing is half-written.

` + exitCodesHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplicate(cmd.Context(), g, o, args)
		},
		Annotations: map[string]string{
			annotationInterrupted: "Interrupt received: finishing the files being sent. Press Ctrl-C again to stop at once.",
			annotationStopped:     "Stopping at once. The files being sent keep their previous copy on the target; run replicate again to continue.",
		},
	}
	o.addFlags(cmd)
	return cmd
}

// replicationSets reads the state instances of addrs, which must be
// replication sets.
func replicationSets(ctx context.Context, v *view, addrs []string) ([]*state.Instance, error) {
	var out []*state.Instance
	for _, a := range addrs {
		inst, err := stateInstance(ctx, v, a)
		if err != nil {
			return nil, err
		}
		if inst.Addr.Type != "replication_set" {
			return nil, fmt.Errorf("%s is a %s, not a replication_set", inst.Addr, inst.Addr.Type)
		}
		out = append(out, inst)
	}
	return out, nil
}

func runReplicate(ctx context.Context, g *globalOptions, o *replicateOptions, args []string) error {
	v := g.newView()
	sets, err := replicationSets(ctx, v, args)
	if err != nil {
		return err
	}
	reg, err := registry(quietConfig())
	if err != nil {
		return err
	}
	defer reg.Close()
	v.printf("Replicating %d set(s); Ctrl-C or SIGTERM stops.\n", len(sets))
	var wg sync.WaitGroup
	errs := make([]error, len(sets))
	for i, inst := range sets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = replicateOne(ctx, v, reg, inst, o)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func replicateOne(ctx context.Context, v *view, reg *providers.Registry, inst *state.Instance, o *replicateOptions) error {
	label := inst.Addr.String()
	a := map[string]cty.Value{"set": inst.Attrs}
	if o.rescan != "" {
		a["rescan"] = cty.StringVal(o.rescan)
	}
	res, err := invokeAction(ctx, v, reg, label, inst.Provider, "replicate", a)
	if err != nil {
		return err
	}
	n := func(name string) float64 { f, _ := res.GetAttr(name).AsBigFloat().Float64(); return f }
	if v.json {
		v.event("replicate_stopped", map[string]any{"address": label, "rounds": n("rounds"), "entries": n("entries"),
			"bytes": n("bytes"), "changes": n("changes"), "lag_p50_seconds": n("lag_p50"), "lag_p99_seconds": n("lag_p99"),
			"lag_max_seconds": n("lag_max")})
		return nil
	}
	v.printf("%s: stopped; %.0f entries (%.0f bytes) sent in %.0f rounds; lag of %.0f changes: p50 %.2fs, p99 %.2fs, max %.2fs\n",
		label, n("entries"), n("bytes"), n("rounds"), n("changes"), n("lag_p50"), n("lag_p99"), n("lag_max"))
	return nil
}
