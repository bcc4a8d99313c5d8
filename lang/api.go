package lang

// Signatures the rest of Drover builds on. Bodies are filled in by the lang
// work; see the package documentation.

import (
	"io"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// LoadDir parses every *.dr.hcl and *.dr.json file of dir (not recursive)
// into a Config. Diagnostics carry source ranges; Config is non-nil even
// with errors so callers can render what was read.
func LoadDir(dir string) (*Config, hcl.Diagnostics) { panic("unimplemented") }

// Hash identifies the configuration's content: file names and bytes.
func (c *Config) Hash() string { panic("unimplemented") }

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

// ExprRefs lists the references of expr; an invalid reference (`var`
// without a name, an unknown root like `vars.x`) is a diagnostic that
// suggests the nearest valid root.
func ExprRefs(expr hcl.Expression) ([]Ref, hcl.Diagnostics) { panic("unimplemented") }

// BodyRefs lists the references of a body decoded with spec.
func BodyRefs(body hcl.Body, spec hcldec.Spec) ([]Ref, hcl.Diagnostics) {
	panic("unimplemented")
}

// TraversalRefs turns depends_on / after entries into references.
func TraversalRefs(travs []hcl.Traversal) ([]Ref, hcl.Diagnostics) { panic("unimplemented") }

// Data answers the references a Scope evaluates. The planner implements it
// over planned values, the executor's finalisation over applied values.
// Values not known yet are unknown.
type Data interface {
	Var(name string) cty.Value
	Local(name string) cty.Value
	Host(name string) cty.Value
	// Resource is the whole resource: an object without count/for_each, a
	// tuple with count, an object keyed by for_each key with for_each.
	Resource(addr addrs.Resource) cty.Value
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
type Scope struct {
	Data     Data
	Instance Instance
	// BaseDir is the configuration folder; file functions see only it.
	BaseDir string
}

// EvalExpr evaluates expr and converts the result to want
// (cty.DynamicPseudoType for any).
func (s *Scope) EvalExpr(expr hcl.Expression, want cty.Type) (cty.Value, hcl.Diagnostics) {
	panic("unimplemented")
}

// EvalBody decodes body with spec and evaluates it. Unknown argument names
// get a suggestion of the nearest valid one.
func (s *Scope) EvalBody(body hcl.Body, spec hcldec.Spec) (cty.Value, hcl.Diagnostics) {
	panic("unimplemented")
}

// InputValues gathers variable values from, in rising precedence,
// DROVER_VAR_name environment entries, --var-file files and --var flags
// (NAME=VALUE, VALUE parsed as HCL when the variable's type is not string).
func InputValues(cfg *Config, environ []string, varFiles []string, varFlags []string) (map[string]cty.Value, hcl.Diagnostics) {
	panic("unimplemented")
}

// FinalizeVariables applies defaults, type conversion, nullability and
// validation blocks; a required variable without value is an error that
// says how to give one.
func FinalizeVariables(cfg *Config, inputs map[string]cty.Value) (map[string]cty.Value, hcl.Diagnostics) {
	panic("unimplemented")
}

// NearestName returns the candidate closest to given by edit distance when
// it is close enough to be a likely typo, else "".
func NearestName(given string, candidates []string) string { panic("unimplemented") }

// DiagnosticWriterOptions shapes diagnostic rendering.
type DiagnosticWriterOptions struct {
	Color bool
	Width int
}

// WriteDiagnostics renders diags for people: severity and summary, then
// file:line:col, the source lines with the subject underlined, and the
// detail (what to do next).
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, opts DiagnosticWriterOptions) error {
	panic("unimplemented")
}

// Format returns src in canonical HCL layout.
func Format(src []byte) []byte { panic("unimplemented") }
