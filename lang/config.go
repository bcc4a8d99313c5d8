package lang

import (
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
)

// Config is one configuration folder, decoded but not evaluated: every
// expression keeps its source range for diagnostics.
type Config struct {
	Dir string
	// Files holds every parsed file by its path as given to the parser, for
	// rendering source snippets in diagnostics.
	Files map[string]*hcl.File

	Drover    *Drover
	Hosts     map[string]*Host
	Providers map[string]*ProviderConfig
	Variables map[string]*Variable
	Locals    map[string]*Local
	Outputs   map[string]*Output
	Resources map[addrs.Resource]*Resource
	Runbooks  map[string]*Runbook
	// Moved lists the moved blocks in the order they are read.
	Moved []*Moved
	// Imports lists the import blocks in the order they are read.
	Imports []*Import
	// Removed lists the removed blocks in the order they are read.
	Removed []*Removed
}

// Drover is the merged `drover` settings block.
type Drover struct {
	RequiredVersion   string
	Backend           *Backend
	RequiredProviders map[string]*ProviderRequirement
	DeclRange         hcl.Range
}

// Backend selects where state lives: `backend "local" { path = "..." }`.
type Backend struct {
	Type      string
	Config    hcl.Body
	DeclRange hcl.Range
}

// ProviderRequirement is one entry of `required_providers`.
type ProviderRequirement struct {
	Name      string
	Source    string
	Version   string
	DeclRange hcl.Range
}

// Host is a `host "NAME" { ... }` block. Its attributes (address, root,
// transport, user, port, netns) are expressions evaluated by the planner into a
// value of host.Type.
type Host struct {
	Name      string
	Config    hcl.Body
	DeclRange hcl.Range
}

// ProviderConfig is a `provider "NAME" { ... }` block: the provider's own
// settings (credentials, endpoints), decoded by the planner with the
// provider's configuration schema. It may refer to variables, locals and
// hosts, never to resources: providers are configured before anything is
// read or planned.
type ProviderConfig struct {
	Name      string
	Config    hcl.Body
	DeclRange hcl.Range
}

// Variable is a `variable` block.
type Variable struct {
	Name        string
	Description string
	// Type is cty.DynamicPseudoType when no type constraint was given.
	Type cty.Type
	// Default is cty.NilVal when the variable has no default (required).
	Default     cty.Value
	Sensitive   bool
	Nullable    bool
	Validations []*Validation
	DeclRange   hcl.Range

	// typeDefaults fills in optional object attributes given defaults in
	// the type constraint (optional(string, "x")); nil when there are none.
	typeDefaults *typeexpr.Defaults
}

// Validation is a `validation { condition, error_message }` block.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

// Local is one entry of a `locals` block.
type Local struct {
	Name      string
	Expr      hcl.Expression
	DeclRange hcl.Range
}

// Output is an `output` block.
type Output struct {
	Name        string
	Description string
	Expr        hcl.Expression
	Sensitive   bool
	DependsOn   []hcl.Traversal
	DeclRange   hcl.Range
}

// Resource is a `resource` or `data` block (or a resource nested in a
// runbook step). Config is the body left once the meta-arguments are taken
// out; the planner decodes it with the provider's schema.
type Resource struct {
	Addr addrs.Resource
	// Provider is the `provider = NAME` meta-argument, empty when absent.
	Provider  string
	Config    hcl.Body
	Count     hcl.Expression
	ForEach   hcl.Expression
	DependsOn []hcl.Traversal
	Lifecycle Lifecycle
	Timeouts  Timeouts
	DeclRange hcl.Range
	TypeRange hcl.Range
}

// Timeouts is the `timeouts` block of a resource: how long each kind of
// provider call may take before Drover asks the provider to stop and
// reports the resource as failed. Zero means no limit.
type Timeouts struct {
	Read, Create, Update, Delete time.Duration
}

// Lifecycle is the `lifecycle` block of a resource.
type Lifecycle struct {
	PreventDestroy      bool
	CreateBeforeDestroy bool
	IgnoreChanges       []hcl.Traversal
	IgnoreAllChanges    bool
	// ReplaceTriggeredBy names whole resources: a planned change to any of
	// their instances replaces the instances of this one.
	ReplaceTriggeredBy []hcl.Traversal
}

// Runbook is a `runbook "NAME"` block: a graph of steps, decoded and
// validated here; the runbook engine executes it.
type Runbook struct {
	Name      string
	RPO       hcl.Expression
	RTO       hcl.Expression
	Trigger   *Trigger
	Steps     map[string]*Step
	Drill     *Drill
	DeclRange hcl.Range
}

// Trigger is the automated-failover heartbeat of a runbook: the host
// whose missed heartbeats run it, and the witness that must not reach
// that host either.
type Trigger struct {
	Heartbeat hcl.Expression
	Interval  hcl.Expression
	Missed    hcl.Expression
	Witness   hcl.Expression
	DeclRange hcl.Range
}

// Step is one step of a runbook. Exactly one action attribute is set, or
// the step holds resources.
type Step struct {
	Name string
	// Count and ForEach repeat the step as resources are repeated: one
	// instance per key, each a step of its own (StepID), its expressions
	// seeing count.index or each.key and each.value. At most one is set.
	Count   hcl.Expression
	ForEach hcl.Expression
	// After lists the steps the step waits for, as written. When an entry
	// is not a plain reference (step.x[count.index - 1], or a conditional
	// around the list), AfterExpr is the whole after expression, evaluated
	// for each instance by the planner, and After lists every step it
	// refers to, Computed set.
	After     []StepRef
	AfterExpr hcl.Expression
	Host      hcl.Expression
	Run       hcl.Expression
	Timeout   hcl.Expression
	// Env, Dir, Retries and RetryDelay shape a run step; OnFailure says
	// what the run does when the step fails: "abort" (the default),
	// "continue" or "prompt".
	Env        hcl.Expression
	Dir        hcl.Expression
	Retries    hcl.Expression
	RetryDelay hcl.Expression
	OnFailure  hcl.Expression
	Import     hcl.Expression
	SetDefault hcl.Expression
	// SetNext makes a boot entry the default for the next boot only.
	SetNext hcl.Expression
	// Stop fences a vm_guest: stops it, to start it again on failback.
	Stop   hcl.Expression
	Reboot hcl.Expression
	// RebootCommand and RebootProbe replace the reboot's default argv
	// (shutdown -r now) and the probe whose output changes with each boot
	// (the Linux boot ID).
	RebootCommand hcl.Expression
	RebootProbe   hcl.Expression
	Prompt        hcl.Expression
	Wait          hcl.Expression
	Check         hcl.Expression
	// Checks are the step's check blocks, its action when set; all must
	// pass. Preconditions are checked before the step acts (it fails
	// without acting when one does not pass), postconditions after.
	Checks         []*Assertion
	Preconditions  []*Assertion
	Postconditions []*Assertion
	Resources      map[addrs.Resource]*Resource
	DeclRange      hcl.Range
}

// Drill is what changes when a runbook runs as a drill (runbook_drill.go).
type Drill struct {
	Isolate hcl.Expression
	// MaxAge is how old the last successful drill may be before a plan of
	// the runbook warns.
	MaxAge hcl.Expression
	// Reboot, when true, makes a drill reboot as the steps say; a reboot
	// is recorded, not done, otherwise.
	Reboot    hcl.Expression
	Cleanup   []*DrillCleanup
	Overrides []*DrillOverride
	// Steps run in drills only.
	Steps     map[string]*Step
	DeclRange hcl.Range
}
