package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/drover-dr/drover/cmd/drover/internal/render"
	"github.com/drover-dr/drover/executor"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/state"
	"github.com/drover-dr/drover/state/local"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

type applyOptions struct {
	planOptions
	autoApprove bool
}

func newApplyCommand(g *globalOptions, destroy bool) *cobra.Command {
	o := &applyOptions{}
	o.destroy = destroy
	cmd := &cobra.Command{
		Use:   "apply [PLANFILE]",
		Short: "Make the changes the configuration asks for",
		Long: `Without PLANFILE: plans, shows the plan and asks for "yes" before applying it.
With PLANFILE: applies exactly that saved plan, and refuses it if the state or the
configuration changed since it was made.

Every finished change is recorded in the state at once; an apply that is killed
resumes where it stopped on the next run.

` + exitCodesHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runApply(cmd.Context(), g, o, args) },
		Annotations: map[string]string{
			annotationInterrupted: "Interrupt received: letting running steps finish. Press Ctrl-C again to stop at once.",
			annotationStopped:     "Stopping at once. Finished changes are in the state journal; run plan or apply again to continue.",
		},
	}
	if destroy {
		cmd.Use = "destroy"
		cmd.Short = "Destroy everything this configuration manages"
		cmd.Long = "Plans to destroy every object in the state, shows the plan, asks for \"yes\", and applies it.\n\n" + exitCodesHelp
		cmd.Args = cobra.NoArgs
	}
	o.addFlags(cmd, !destroy)
	cmd.Flags().BoolVar(&o.autoApprove, "auto-approve", false, "apply without asking")
	return cmd
}

func runApply(ctx context.Context, g *globalOptions, o *applyOptions, args []string) error {
	s, err := o.open(ctx, g, "apply")
	if err != nil {
		return err
	}
	defer s.close()
	v, cfg, popts, prior := s.v, s.cfg, s.popts, s.prior

	var p *plan.Plan
	if len(args) == 1 {
		if p, err = loadSavedPlan(v, s.backend, args[0], cfg, prior, &popts); err != nil {
			return err
		}
		if p.Runbook != nil {
			return v.errorf("Plan of a runbook run", "%s is the plan of a %s of runbook %q: run it with `drover %s %s`.",
				args[0], p.Runbook.Kind, p.Runbook.Name, runbookCommand(p.Runbook.Kind), args[0])
		}
		if err := configureProviders(ctx, v, cfg, popts); err != nil {
			return err
		}
		if diags := planner.CheckSaved(ctx, cfg, popts, p); diags.HasErrors() {
			return v.fail(diags)
		}
		showPlan(v, p)
	} else {
		if err := configureProviders(ctx, v, cfg, popts); err != nil {
			return err
		}
		if p, err = makePlan(ctx, v, cfg, prior, popts); err != nil {
			return err
		}
		if !p.HasChanges() {
			return nil
		}
		if !o.autoApprove {
			if err := confirm(v, o.destroy); err != nil {
				return err
			}
		}
	}
	return applyPlan(ctx, v, s.backend, cfg, p, prior, popts)
}

// planKey reads (or with plan.EnsureKey, makes) the plan key beside the
// state.
func planKey(sb state.Backend, read func(path string) ([]byte, error)) ([]byte, error) {
	lb, ok := sb.(*local.Backend)
	if !ok {
		return nil, fmt.Errorf("the state backend keeps no plan key: saved plans need the local backend")
	}
	key, err := read(lb.PlanKeyPath())
	if err != nil {
		return nil, fmt.Errorf("the plan key: %w", err)
	}
	return key, nil
}

// loadSavedPlan reads a plan file, checks its seal, and checks it still
// fits the state and the configuration; sensitive variables, which plans
// never keep, must be given again with the same values.
func loadSavedPlan(v *view, sb state.Backend, path string, cfg *lang.Config, prior *state.State, popts *planner.Options) (*plan.Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the saved plan: %w", err)
	}
	key, err := planKey(sb, plan.ReadKey)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, v.errorf("Saved plan cannot be verified",
			"This workspace has no plan key (%s), so %s was not saved here. Run `drover plan --out %s` here to save a plan to apply.", err, path, path)
	}
	if err != nil {
		return nil, err
	}
	p, err := plan.Open(b, key)
	if errors.Is(err, plan.ErrTampered) {
		return nil, v.errorf("Saved plan refused", "%s: %s. Nothing was applied; plan again with `drover plan --out %s` and review it.", path, err, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case p.Errored:
		return nil, v.errorf("Saved plan is not applicable", "%s was saved from a plan that stopped at an error. Fix the errors and plan again.", path)
	case p.Lineage != prior.Lineage && prior.Serial > 0:
		return nil, v.errorf("Saved plan is for another state",
			"%s was made against state lineage %s, but the current state is lineage %s. Plan again against this state.", path, p.Lineage, prior.Lineage)
	case p.Serial != prior.Serial:
		return nil, v.errorf("Saved plan is stale",
			"%s was made against state serial %d, but the state has moved to serial %d since. Plan again to see what would change now.", path, p.Serial, prior.Serial)
	case p.ConfigHash != cfg.Hash():
		return nil, v.errorf("Saved plan is stale",
			"The configuration files have changed since %s was made. Plan again to see what would change now.", path)
	}
	vars := map[string]cty.Value{}
	for name, val := range p.Variables {
		vars[name] = val
	}
	var mismatched []string
	for name, hash := range p.SensitiveVariables {
		given, ok := popts.Variables[name]
		if !ok || plan.VariableHash(given) != hash {
			mismatched = append(mismatched, name)
			continue
		}
		vars[name] = given
	}
	if len(mismatched) > 0 {
		sort.Strings(mismatched)
		return nil, v.errorf("Sensitive variables differ from the plan",
			"The saved plan does not keep sensitive values. Give %s again (--var, --var-file or DROVER_VAR_NAME) with the values the plan was made with.",
			strings.Join(mismatched, ", "))
	}
	popts.Variables = vars
	popts.Mode = p.Mode
	return p, nil
}

var errDeclined = errors.New("apply cancelled: the answer was not \"yes\"")

func confirm(v *view, destroy bool) error {
	if v.json {
		return fmt.Errorf("--json needs --auto-approve or a saved plan: there is no one to ask")
	}
	question := "Do you want to perform these actions?"
	if destroy {
		question = "Do you really want to destroy all resources?"
	}
	return ask(v, question)
}

// ask asks question and returns errDeclined unless the answer is "yes".
func ask(v *view, question string) error {
	v.printf("\n%s\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", v.bold(question))
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return errDeclined
	}
	if strings.TrimSpace(line) != "yes" {
		return errDeclined
	}
	v.printf("\n")
	return nil
}

// applyPlan applies p with a journal and persists the result.
func applyPlan(ctx context.Context, v *view, b state.Backend, cfg *lang.Config, p *plan.Plan, prior *state.State, popts planner.Options) error {
	journal, err := b.Journal(ctx, prior)
	if err != nil {
		return fmt.Errorf("opening the state journal: %w", err)
	}
	hooks := newApplyHooks(v)
	popts.PlanTime = p.Timestamp // plantimestamp() as the plan saw it
	final, diags := executor.Apply(ctx, p, prior, executor.Options{
		Providers:   popts.Providers,
		Journal:     journal,
		Parallelism: popts.Parallelism,
		Hooks:       hooks,
		Finalizer:   planner.NewFinalizer(cfg, popts),
	})
	hooks.wait()
	// The apply's outcome is persisted whatever happened: every change
	// that finished must be in the state.
	commitErr := journal.Commit(context.WithoutCancel(ctx), final)
	reported := v.diagnostics(diags)
	if commitErr != nil {
		return fmt.Errorf("saving the state: %w (the journal beside the state keeps every finished change; the next run replays it)", commitErr)
	}
	if reported {
		return errReported
	}
	c := p.Counts()
	if v.json {
		v.event("change_summary", map[string]any{"operation": "apply", "import": c.Import, "add": c.Add, "change": c.Change, "destroy": c.Destroy, "forget": c.Forget})
		v.event("outputs", map[string]any{"outputs": outputsJSON(final)})
		return nil
	}
	verb := "Apply"
	if p.Mode == plan.Destroy {
		verb = "Destroy"
	}
	tally := fmt.Sprintf("%d added, %d changed, %d destroyed.", c.Add, c.Change, c.Destroy)
	if c.Import > 0 {
		tally = fmt.Sprintf("%d imported, %s", c.Import, tally)
	}
	if c.Forget > 0 {
		tally = strings.TrimSuffix(tally, ".") + fmt.Sprintf(", %d forgotten.", c.Forget)
	}
	v.printf("\n%s\n", v.green(v.bold(fmt.Sprintf("%s complete! Resources: %s", verb, tally))))
	if len(final.Outputs) > 0 && p.Mode != plan.Destroy {
		v.printf("\n%s\n\n", v.green("Outputs:"))
		for _, name := range sortedOutputs(final) {
			o := final.Outputs[name]
			val := sensitiveValue
			if !o.Sensitive {
				val = render.Value(o.Value)
			}
			v.printf("%s = %s\n", name, val)
		}
	}
	return nil
}

func sortedOutputs(s *state.State) []string {
	names := make([]string, 0, len(s.Outputs))
	for n := range s.Outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
