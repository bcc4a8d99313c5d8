package plan

import (
	"fmt"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// RunbookMode is the mode of a plan that runs a runbook: it carries the
// runbook's steps and no resource changes of the configuration.
const RunbookMode Mode = "runbook"

// Runbook is the plan of one runbook run: its steps in wave order, each
// with the provider action that does its work and the arguments evaluated
// against the refreshed state.
type Runbook struct {
	Name string
	// Kind is what the run is for: failover, failback or run.
	Kind string
	// Continues is the run ID of an earlier run of this runbook that did
	// not finish; its finished steps are skipped and its record continued.
	Continues string
	RPO, RTO  time.Duration
	Steps     []*Step
	// Release lists what earlier runs hold and this run gives back once
	// its steps are done (a failback of the failover in force).
	Release []*Release
	// Budget holds the figures held against rpo and rto.
	Budget []*BudgetCheck
	// Drill, when set, makes the run a drill: its steps act on the
	// clones it lists.
	Drill *Drill
	// LastDrill is when the last successful drill of the runbook ended,
	// zero when none is recorded.
	LastDrill time.Time
}

// BudgetCheck is one figure held against a budget: the data-loss window
// of a protected resource (rpo), or the longest chain of steps (rto).
type BudgetCheck struct {
	Budget  string // rpo or rto
	Subject string // the resource address, or the chain of steps
	Value   time.Duration
	Limit   time.Duration
	Over    bool
	Detail  string
}

// Release is one thing a runbook in force holds, to be given back: the
// provider action that reverses the step that took it.
type Release struct {
	Runbook string
	Step    string
	Summary string
	Invoke  Invoke
	// Destroy, for a step that held resources, deletes them instead.
	Destroy []*Change
}

// Invoke is one provider action with its arguments.
type Invoke struct {
	Provider string
	Action   string
	Args     cty.Value
}

// Step actions, as Step.Action names them.
const (
	StepRun        = "run"
	StepWait       = "wait"
	StepImport     = "import"
	StepSetDefault = "set_default"
	StepSetNext    = "set_next"
	StepPrompt     = "prompt"
	StepCheck      = "check"
	// StepStop stops a vm_guest (a fence), started again on failback.
	StepStop = "stop"
	// StepResources creates the step's resources, held while the
	// runbook is in force.
	StepResources = "resources"
)

// Step is one step of a runbook plan.
type Step struct {
	Name string
	// Wave is the step's depth in the after graph: a step runs only after
	// every step of the waves before it that it waits for.
	Wave   int
	After  []string
	Action string
	// Host is the name of the host the step acts on, empty for none.
	Host string
	// Summary says in one line what the step does.
	Summary string
	// Invoke is the provider action doing the step's work; the zero value
	// for a prompt, which the run asks itself.
	Invoke Invoke
	// Reboot, when set, is the reboot that follows a boot switch.
	Reboot *Invoke
	// Changes, for a resources step, create its resources as apply does.
	Changes []*Change
	// Release, when known at plan time, is what gives back what the step
	// holds once it ran (an import's undo file), said by ReleaseSummary;
	// a boot switch's release is known only from its result.
	Release        *Invoke
	ReleaseSummary string
	// Prompt is the question of a prompt step.
	Prompt string
	// Check is whether a check step's condition held when planned.
	Check *bool
	// Checks are a check step's check blocks; Preconditions are checked
	// before the step acts, Postconditions after.
	Checks         []*Assertion
	Preconditions  []*Assertion
	Postconditions []*Assertion
	Timeout        time.Duration
	Retries        int
	RetryDelay     time.Duration
	// OnFailure is abort, continue or prompt.
	OnFailure string
	// Skip says why the step will not run (it finished in an earlier run
	// of the same runbook); empty when it runs.
	Skip string
	// Deferred is set when the step's arguments refer to steps whose
	// outcome is known only when it runs: it is planned again then.
	Deferred bool
}

// Runs counts the steps that are not skipped.
func (r *Runbook) Runs() int {
	n := 0
	for _, s := range r.Steps {
		if s.Skip == "" {
			n++
		}
	}
	return n
}

// The runbook part of the plan document.
type docRunbook struct {
	Name      string       `json:"name"`
	Kind      string       `json:"kind"`
	Continues string       `json:"continues,omitempty"`
	RPO       string       `json:"rpo,omitempty"`
	RTO       string       `json:"rto,omitempty"`
	Steps     []docStep    `json:"steps"`
	Release   []docRelease `json:"release,omitempty"`
	Budget    []docBudget  `json:"budget,omitempty"`
	Drill     *docDrill    `json:"drill,omitempty"`
	LastDrill time.Time    `json:"last_drill,omitzero"`
}

type docBudget struct {
	Budget  string `json:"budget"`
	Subject string `json:"subject"`
	Value   string `json:"value"`
	Limit   string `json:"limit"`
	Over    bool   `json:"over,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

type docStep struct {
	Name           string         `json:"name"`
	Wave           int            `json:"wave"`
	After          []string       `json:"after,omitempty"`
	Action         string         `json:"action"`
	Host           string         `json:"host,omitempty"`
	Summary        string         `json:"summary"`
	Invoke         *docInvoke     `json:"invoke,omitempty"`
	Reboot         *docInvoke     `json:"reboot,omitempty"`
	Changes        []docChange    `json:"resource_changes,omitempty"`
	Release        *docInvoke     `json:"release,omitempty"`
	ReleaseSummary string         `json:"release_summary,omitempty"`
	Prompt         string         `json:"prompt,omitempty"`
	Check          *bool          `json:"check,omitempty"`
	Checks         []docAssertion `json:"checks,omitempty"`
	Preconditions  []docAssertion `json:"preconditions,omitempty"`
	Postconditions []docAssertion `json:"postconditions,omitempty"`
	Timeout        string         `json:"timeout,omitempty"`
	Retries        int            `json:"retries,omitempty"`
	RetryDelay     string         `json:"retry_delay,omitempty"`
	OnFailure      string         `json:"on_failure"`
	Skip           string         `json:"skip,omitempty"`
	Deferred       bool           `json:"deferred,omitempty"`
}

type docInvoke struct {
	Provider string    `json:"provider"`
	Action   string    `json:"action"`
	Args     *docValue `json:"args"`
}

type docRelease struct {
	Runbook string      `json:"runbook"`
	Step    string      `json:"step"`
	Summary string      `json:"summary"`
	Invoke  *docInvoke  `json:"invoke,omitempty"`
	Destroy []docChange `json:"destroy,omitempty"`
}

// RoundDuration shortens d for showing: to the second, or the millisecond
// below a second.
func RoundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}

func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func parseDurationText(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

func encodeInvoke(i *Invoke) (*docInvoke, error) {
	if i == nil || i.Provider == "" {
		return nil, nil
	}
	args, err := encodeValue(i.Args, nil)
	if err != nil {
		return nil, err
	}
	return &docInvoke{Provider: i.Provider, Action: i.Action, Args: args}, nil
}

func decodeInvoke(d *docInvoke) (*Invoke, error) {
	if d == nil {
		return nil, nil
	}
	args, _, err := decodeValue(d.Args, nil)
	if err != nil {
		return nil, err
	}
	return &Invoke{Provider: d.Provider, Action: d.Action, Args: args}, nil
}

func encodeRunbook(r *Runbook) (*docRunbook, error) {
	if r == nil {
		return nil, nil
	}
	doc := &docRunbook{Name: r.Name, Kind: r.Kind, Continues: r.Continues, RPO: durationText(r.RPO), RTO: durationText(r.RTO), Steps: []docStep{}, Drill: encodeDrill(r.Drill), LastDrill: r.LastDrill}
	for _, s := range r.Steps {
		ds := docStep{Name: s.Name, Wave: s.Wave, After: s.After, Action: s.Action, Host: s.Host, Summary: s.Summary,
			Prompt: s.Prompt, Check: s.Check, Timeout: durationText(s.Timeout), Retries: s.Retries, RetryDelay: durationText(s.RetryDelay),
			OnFailure: s.OnFailure, Skip: s.Skip, Deferred: s.Deferred, ReleaseSummary: s.ReleaseSummary}
		var err error
		if ds.Release, err = encodeInvoke(s.Release); err != nil {
			return nil, fmt.Errorf("step %q: %w", s.Name, err)
		}
		if len(s.Changes) > 0 {
			if ds.Changes, err = encodeChanges(s.Changes); err != nil {
				return nil, fmt.Errorf("step %q: %w", s.Name, err)
			}
		}
		if ds.Invoke, err = encodeInvoke(&s.Invoke); err != nil {
			return nil, fmt.Errorf("step %q: %w", s.Name, err)
		}
		if ds.Reboot, err = encodeInvoke(s.Reboot); err != nil {
			return nil, fmt.Errorf("step %q: %w", s.Name, err)
		}
		for _, l := range []struct {
			from []*Assertion
			to   *[]docAssertion
		}{{s.Checks, &ds.Checks}, {s.Preconditions, &ds.Preconditions}, {s.Postconditions, &ds.Postconditions}} {
			if *l.to, err = encodeAssertions(l.from); err != nil {
				return nil, fmt.Errorf("step %q: %w", s.Name, err)
			}
		}
		doc.Steps = append(doc.Steps, ds)
	}
	for _, b := range r.Budget {
		doc.Budget = append(doc.Budget, docBudget{Budget: b.Budget, Subject: b.Subject, Value: b.Value.String(), Limit: b.Limit.String(), Over: b.Over, Detail: b.Detail})
	}
	for _, rel := range r.Release {
		inv, err := encodeInvoke(&rel.Invoke)
		if err != nil {
			return nil, fmt.Errorf("release of step %q: %w", rel.Step, err)
		}
		dr := docRelease{Runbook: rel.Runbook, Step: rel.Step, Summary: rel.Summary, Invoke: inv}
		if len(rel.Destroy) > 0 {
			if dr.Destroy, err = encodeChanges(rel.Destroy); err != nil {
				return nil, fmt.Errorf("release of step %q: %w", rel.Step, err)
			}
		}
		doc.Release = append(doc.Release, dr)
	}
	return doc, nil
}

func decodeRunbook(doc *docRunbook) (*Runbook, error) {
	if doc == nil {
		return nil, nil
	}
	r := &Runbook{Name: doc.Name, Kind: doc.Kind, Continues: doc.Continues, Drill: decodeDrill(doc.Drill), LastDrill: doc.LastDrill}
	var err error
	if r.RPO, err = parseDurationText(doc.RPO); err != nil {
		return nil, fmt.Errorf("runbook rpo: %w", err)
	}
	if r.RTO, err = parseDurationText(doc.RTO); err != nil {
		return nil, fmt.Errorf("runbook rto: %w", err)
	}
	for _, ds := range doc.Steps {
		s := &Step{Name: ds.Name, Wave: ds.Wave, After: ds.After, Action: ds.Action, Host: ds.Host, Summary: ds.Summary,
			Prompt: ds.Prompt, Check: ds.Check, Retries: ds.Retries, OnFailure: ds.OnFailure, Skip: ds.Skip, Deferred: ds.Deferred, ReleaseSummary: ds.ReleaseSummary}
		if s.Timeout, err = parseDurationText(ds.Timeout); err != nil {
			return nil, fmt.Errorf("step %q timeout: %w", ds.Name, err)
		}
		if s.RetryDelay, err = parseDurationText(ds.RetryDelay); err != nil {
			return nil, fmt.Errorf("step %q retry_delay: %w", ds.Name, err)
		}
		inv, err := decodeInvoke(ds.Invoke)
		if err != nil {
			return nil, fmt.Errorf("step %q: %w", ds.Name, err)
		}
		if inv != nil {
			s.Invoke = *inv
		}
		if s.Reboot, err = decodeInvoke(ds.Reboot); err != nil {
			return nil, fmt.Errorf("step %q: %w", ds.Name, err)
		}
		if s.Release, err = decodeInvoke(ds.Release); err != nil {
			return nil, fmt.Errorf("step %q: %w", ds.Name, err)
		}
		for _, l := range []struct {
			from []docAssertion
			to   *[]*Assertion
		}{{ds.Checks, &s.Checks}, {ds.Preconditions, &s.Preconditions}, {ds.Postconditions, &s.Postconditions}} {
			if *l.to, err = decodeAssertions(l.from); err != nil {
				return nil, fmt.Errorf("step %q: %w", ds.Name, err)
			}
		}
		if len(ds.Changes) > 0 {
			if s.Changes, err = decodeChanges(ds.Changes); err != nil {
				return nil, fmt.Errorf("step %q: %w", ds.Name, err)
			}
		}
		r.Steps = append(r.Steps, s)
	}
	for _, db := range doc.Budget {
		b := &BudgetCheck{Budget: db.Budget, Subject: db.Subject, Over: db.Over, Detail: db.Detail}
		if b.Value, err = parseDurationText(db.Value); err != nil {
			return nil, fmt.Errorf("budget %s of %s: %w", db.Budget, db.Subject, err)
		}
		if b.Limit, err = parseDurationText(db.Limit); err != nil {
			return nil, fmt.Errorf("budget %s of %s: %w", db.Budget, db.Subject, err)
		}
		r.Budget = append(r.Budget, b)
	}
	for _, dr := range doc.Release {
		rel := &Release{Runbook: dr.Runbook, Step: dr.Step, Summary: dr.Summary}
		inv, err := decodeInvoke(dr.Invoke)
		if err != nil {
			return nil, fmt.Errorf("release of step %q: %w", dr.Step, err)
		}
		if inv != nil {
			rel.Invoke = *inv
		}
		if len(dr.Destroy) > 0 {
			if rel.Destroy, err = decodeChanges(dr.Destroy); err != nil {
				return nil, fmt.Errorf("release of step %q: %w", dr.Step, err)
			}
		}
		if inv == nil && len(rel.Destroy) == 0 {
			return nil, fmt.Errorf("release of step %q names no action and no resources", dr.Step)
		}
		r.Release = append(r.Release, rel)
	}
	return r, nil
}
