package plan

import (
	"sort"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/state"
	"github.com/zclconf/go-cty/cty"
)

// Action is what a change does to one resource instance.
type Action byte

const (
	NoOp Action = iota
	Create
	Read
	Update
	// DeleteThenCreate replaces by destroying the old object first.
	DeleteThenCreate
	// CreateThenDelete replaces by creating the new object first
	// (lifecycle create_before_destroy).
	CreateThenDelete
	Delete
)

// String is the symbol the plan shows for the action.
func (a Action) String() string {
	return [...]string{" ", "+", "<=", "~", "-/+", "+/-", "-"}[a]
}

// Verb is the action in words, for JSON and summaries.
func (a Action) Verb() string {
	return [...]string{"no-op", "create", "read", "update", "replace", "replace", "delete"}[a]
}

// IsReplace reports whether a is one of the two replace actions.
func (a Action) IsReplace() bool { return a == DeleteThenCreate || a == CreateThenDelete }

// Mode is what kind of run a plan is for.
type Mode string

const (
	Normal      Mode = "normal"
	Destroy     Mode = "destroy"
	RefreshOnly Mode = "refresh-only"
)

// Reason explains why an action was chosen when the values alone do not.
type Reason string

const (
	ReasonNone           Reason = ""
	ReasonTainted        Reason = "tainted"
	ReasonRequested      Reason = "replace requested"
	ReasonTriggered      Reason = "a resource in replace_triggered_by changes"
	ReasonNoConfig       Reason = "no longer in configuration"
	ReasonCountIndex     Reason = "count index out of range"
	ReasonEachKey        Reason = "for_each key gone"
	ReasonDeferredConfig Reason = "configuration not known until apply"
	ReasonDeferredDeps   Reason = "depends on resources with changes"
)

// Change is the planned change of one resource instance.
type Change struct {
	Addr     addrs.Instance
	Provider string
	Action   Action
	Reason   Reason
	// Before is the refreshed prior value (null for a create); After is the
	// planned value (null for a delete), unknown where only apply can tell.
	Before cty.Value
	After  cty.Value
	// RequiresReplace lists the attributes whose change forces a replace.
	RequiresReplace []cty.Path
	// SensitivePaths of Before and After are hidden in every rendering.
	SensitivePaths []cty.Path
	// Private is the provider's planned private data.
	Private []byte
	// Description is the provider's one-line summary, if any.
	Description string
	// Dependencies are the resources this instance depends on: from the
	// configuration for a create, update or replace, from the state for a
	// delete. The executor builds the graph it walks from them; they are
	// resources, not instances, so two counted resources cost N+M edges.
	Dependencies        []addrs.Resource
	CreateBeforeDestroy bool
	// ConfigUnknown is set when the configuration held values not known
	// until apply (or redacted from a saved plan): the executor has the
	// planner finalize the change before applying it.
	ConfigUnknown bool
	// BeforeRedacted is set on a change read from a saved plan whose
	// prior value had sensitive parts; the executor takes the prior value
	// from the stored state instead.
	BeforeRedacted bool
	// Timeouts bound the provider calls that apply the change.
	Timeouts Timeouts
	// MovedFrom is where the state held the object before a moved block
	// gave it this address; nil when it did not move.
	MovedFrom *addrs.Instance
	// ImportID is set when an import block brought the object under
	// management in this plan: the ID it was found by. Apply records the
	// object before changing it (finding it again, from a saved plan).
	ImportID string
}

// Timeouts bound the provider calls applying a change (Read: a data source
// read deferred to apply), from the resource's timeouts block; zero means
// no limit.
type Timeouts struct {
	Read, Create, Update, Delete time.Duration
}

// OutputChange is the planned value of a root output.
type OutputChange struct {
	Name      string
	Action    Action
	Before    cty.Value
	After     cty.Value
	Sensitive bool
}

// Plan is everything apply needs, and everything `show` renders.
type Plan struct {
	Mode Mode
	// Lineage and Serial identify the state the plan was made against;
	// apply refuses the plan when the state has moved since.
	Lineage string
	Serial  uint64
	// ConfigHash identifies the configuration; apply refuses the plan when
	// the files have changed since.
	ConfigHash string
	// Variables are the input values the plan was made with.
	Variables map[string]cty.Value
	// Timestamp is when the plan was made (UTC, whole seconds):
	// plantimestamp() gives it while planning and again while applying.
	Timestamp time.Time
	// SensitiveVariables holds, for a plan read from a document, the hash
	// (VariableHash) of each sensitive variable, whose value is not saved.
	SensitiveVariables map[string]string
	Changes            []*Change
	Outputs            []*OutputChange
	// Drift lists what changed outside Drover, found by refresh.
	Drift []*Change
	// PriorState is the refreshed state the plan was computed from.
	PriorState *state.State
	Targets    []addrs.Instance
	// Moved lists the objects the configuration's moved blocks give new
	// addresses, in the order they move; PriorState already holds them
	// there, and apply records the moves in the stored state.
	Moved []addrs.Move
	// Forgotten lists the objects removed blocks (destroy = false) take
	// out of the state, leaving them as they are.
	Forgotten []addrs.Instance
	// Errored is set when planning stopped at an error; such a plan is for
	// showing only and cannot be applied.
	Errored bool
	// Runbook is the runbook a plan of RunbookMode runs.
	Runbook *Runbook
}

// Sort puts changes and outputs in canonical order.
func (p *Plan) Sort() {
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Addr.Less(p.Changes[j].Addr) })
	sort.Slice(p.Drift, func(i, j int) bool { return p.Drift[i].Addr.Less(p.Drift[j].Addr) })
	sort.Slice(p.Outputs, func(i, j int) bool { return p.Outputs[i].Name < p.Outputs[j].Name })
}

// Counts tallies the changes for the summary line.
type Counts struct{ Import, Add, Change, Destroy, Read, Forget int }

func (p *Plan) Counts() Counts {
	c := Counts{Forget: len(p.Forgotten)}
	for _, ch := range p.Changes {
		if ch.ImportID != "" {
			c.Import++
		}
		switch ch.Action {
		case Create:
			c.Add++
		case Update:
			c.Change++
		case Delete:
			c.Destroy++
		case Read:
			c.Read++
		case DeleteThenCreate, CreateThenDelete:
			c.Add++
			c.Destroy++
		}
	}
	return c
}

// HasChanges reports whether applying the plan would change anything.
func (p *Plan) HasChanges() bool {
	for _, ch := range p.Changes {
		if ch.Action != NoOp || ch.ImportID != "" {
			return true
		}
	}
	for _, o := range p.Outputs {
		if o.Action != NoOp {
			return true
		}
	}
	if p.Runbook != nil && (p.Runbook.Runs() > 0 || len(p.Runbook.Release) > 0) {
		return true
	}
	return len(p.Moved) > 0 || len(p.Forgotten) > 0 || p.Mode == RefreshOnly && len(p.Drift) > 0
}
