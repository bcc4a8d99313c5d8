package lang

// The types the rest of Drover builds on. The functions working on them
// live beside: load.go (LoadDir, Hash), refs.go, scope.go, repetition.go,
// variables.go, diagnostics.go, format.go, names.go.

import (
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang/funcs"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// SensitiveMark is the cty mark of sensitive values: variables declared
// sensitive, values passed through sensitive(), and everything derived
// from them. Evaluation keeps marks; the planner removes them with
// UnmarkDeepWithPaths and records the paths.
const SensitiveMark = funcs.SensitiveMark

// RefKind is what a reference points at.
type RefKind int

const (
	RefVar RefKind = iota
	RefLocal
	RefHost
	RefResource
	RefCount
	RefEach
	RefPath
	RefSelf
	RefStep
)

// Ref is one reference found in an expression or body.
type Ref struct {
	Kind RefKind
	// Name is the variable, local, host, output or step name; for RefCount
	// and RefEach the attribute ("index", "key", "value"); for RefPath
	// "module", "root" or "cwd".
	Name string
	// Resource is set for RefResource.
	Resource addrs.Resource
	// Key is set when the reference selects one instance (value.x[2]).
	Key       *addrs.Key
	Range     hcl.Range
	Remaining hcl.Traversal
}

// Data answers the references a Scope evaluates. The planner implements it
// over planned values, the executor's finalisation over applied values.
// Values not known yet are unknown; a name that is not declared is
// cty.NilVal, which the Scope reports as an undeclared reference.
type Data interface {
	Var(name string) cty.Value
	Local(name string) cty.Value
	Host(name string) cty.Value
	// Resource is the whole resource: an object without count/for_each, a
	// tuple with count, an object keyed by for_each key with for_each.
	Resource(addr addrs.Resource) cty.Value
}

// StepData is implemented by Data that can answer `step.NAME` references
// (the runbook engine). Without it, such references are errors.
type StepData interface {
	Step(name string) cty.Value
}

// SelfData is implemented by Data that can answer `self` (the object the
// expression belongs to). Without it, `self` is an error.
type SelfData interface {
	Self() cty.Value
}

// Instance is what count.index / each.key / each.value mean inside one
// instance of a repeated resource; zero value outside one.
type Instance struct {
	Key       addrs.Key
	EachValue cty.Value
}

// Scope evaluates expressions. Only the references an expression names
// are looked up, so evaluating one instance costs the same however many
// resources the configuration has.
//
// With a zero Instance, count.index, each.key and each.value are unknown
// (validation and expansion happen before instances exist); LoadDir has
// already rejected them where the block does not repeat.
type Scope struct {
	Data     Data
	Instance Instance
	// BaseDir is the configuration folder; file functions see only it.
	BaseDir string
	// ApplyTime makes impure functions (timestamp, uuid) return values.
	// While planning (false) they are unknown, so that a plan is stable.
	ApplyTime bool
	// PlanTime is when the plan being made or applied was made, for
	// plantimestamp(); zero leaves it unknown.
	PlanTime time.Time
}

// DiagnosticWriterOptions shapes diagnostic rendering.
type DiagnosticWriterOptions struct {
	Color bool
	// Width wraps detail paragraphs; 0 leaves them unwrapped.
	Width int
}
