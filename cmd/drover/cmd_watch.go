package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/drover-dr/drover/planner"
	"github.com/drover-dr/drover/record"
	"github.com/drover-dr/drover/watch"
	"github.com/spf13/cobra"
)

func newWatchCommand(g *globalOptions) *cobra.Command {
	o := &runbookOptions{}
	cmd := &cobra.Command{
		Use:   "watch [RUNBOOK]",
		Short: "Watch the heartbeat of a runbook's trigger, and run the runbook when its host is down",
		Long: `Watches the host named by the trigger block of the runbook "failover" (or RUNBOOK): a
heartbeat every interval (an SSH handshake, its host key verified). After the trigger's
count of missed heartbeats in a row, and when the trigger names a witness once that
witness cannot reach the host either, runs the runbook as ` + "`drover failover --auto-approve`" + `
would, then exits. A host that answers with another host key stops the watch with an
error: that is never a reason to take over. Prompt steps wait for
` + "`drover runbook answer`" + ` unless --approve answers them up front.

` + exitCodesHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "failover"
			if len(args) == 1 {
				name = args[0]
			}
			return runWatch(cmd.Context(), g, o, name)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().MarkHidden("auto-approve")
	return cmd
}

func runWatch(ctx context.Context, g *globalOptions, o *runbookOptions, name string) error {
	v := g.newView()
	cfg, err := loadConfig(v)
	if err != nil {
		return err
	}
	vars, err := o.variables(v, cfg)
	if err != nil {
		return err
	}
	trig, diags := planner.EvalTrigger(cfg, vars, name)
	if v.fail(diags) != nil {
		return errReported
	}
	showWatchStart(v, trig)
	wv := &watchView{v: v}
	var due watch.Event
	err = (&watch.Watcher{Trigger: trig}).Run(ctx, func(e watch.Event) {
		wv.show(e)
		if e.Kind == watch.Due {
			due = e
		}
	})
	switch {
	case errors.Is(err, watch.ErrImpostor):
		return v.errorf("Heartbeat host key changed", "%s.", err)
	case err != nil:
		return err
	}
	o.autoApprove = true
	o.cause = &record.Message{Severity: "info", Summary: "Started by drover watch",
		Detail: fmt.Sprintf("Host %q: %s (heartbeat every %s), at %s.", trig.Heartbeat.Name, due.Detail, trig.Interval, due.Time.UTC().Format(time.RFC3339))}
	return runRunbook(ctx, g, o, runbookKind(name), name, "")
}

func showWatchStart(v *view, t *planner.Trigger) {
	witness := ""
	if t.Witness != nil {
		witness = t.Witness.Name
	}
	if v.json {
		v.event("watch_started", map[string]any{"runbook": t.Runbook, "heartbeat": t.Heartbeat.Name, "address": t.Heartbeat.Address,
			"interval": t.Interval.String(), "missed": t.Missed, "witness": witness})
		return
	}
	v.printf("Watching host %q (%s): a heartbeat every %s; runbook %q runs after %d missed in a row", t.Heartbeat.Name, t.Heartbeat.Address, t.Interval, t.Runbook, t.Missed)
	if witness != "" {
		v.printf(", once witness %q cannot reach it either", witness)
	}
	v.printf(".\n")
}

// watchView prints what changed: a heartbeat answered is shown once, and
// again only after missed ones.
type watchView struct {
	v       *view
	upShown bool
}

func (w *watchView) show(e watch.Event) {
	v := w.v
	if v.json {
		v.event("watch_"+string(e.Kind), map[string]any{"host": e.Host, "missed": e.Missed, "of": e.Of, "detail": e.Detail,
			"time": e.Time.UTC().Format(time.RFC3339Nano)})
		return
	}
	at := e.Time.Format("15:04:05")
	switch e.Kind {
	case watch.Up:
		if !w.upShown {
			v.printf("%s %s answers.\n", at, e.Host)
			w.upShown = true
		}
	case watch.Back:
		v.printf("%s %s answers again after %d missed heartbeats.\n", at, e.Host, e.Missed)
	case watch.Missed:
		v.printf("%s %s missed a heartbeat (%d of %d): %s\n", at, e.Host, e.Missed, e.Of, e.Detail)
	case watch.WitnessReaches:
		v.printf("%s Not failing over: %s.\n", at, e.Detail)
	case watch.WitnessUnreachable:
		v.printf("%s Not failing over: witness %q cannot be asked: %s\n", at, e.Host, e.Detail)
	case watch.Due:
		v.printf("%s %s is down: %s. Running the runbook.\n", at, e.Host, e.Detail)
	}
}
