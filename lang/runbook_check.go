package lang

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// A runbook's arguments are checked like a resource's: every reference
// must name something declared, and every value known while loading
// (literals, and functions of them) must suit its argument. Values that
// depend on variables, locals or resources are known only when the runbook
// runs; the runbook engine checks those.

// argKind is what a runbook argument takes.
type argKind int

const (
	argDuration       argKind = iota // a positive duration, "15m"
	argCount                         // a whole number of 1 or more
	argBool                          // true or false
	argArgv                          // a program and its arguments
	argText                          // a non-empty string
	argHost                          // a host, host.NAME
	argCapture                       // a registry_capture resource
	argBootEntry                     // a boot_entry resource
	argTries                         // a whole number of 0 or more
	argEnv                           // a map of strings
	argOnFailure                     // "abort", "continue" or "prompt"
	argString                        // a string, empty or not
	argRegValue                      // a registry value: { hive, key, name }
	argReplicationSet                // a replication_set resource
	argDriveCopy                     // a drive_copy resource
	argGuest                         // a vm_guest resource
	argAge                           // a positive duration, days allowed: "30d"
	argForEach                       // a step's for_each: checked as it is planned
)

// OnFailureChoices are what on_failure takes, the default first.
var OnFailureChoices = []string{"abort", "continue", "prompt"}

// runbookArg is one argument of a runbook, a trigger, a step or a drill.
type runbookArg struct {
	name string
	// where says which block the argument is in, for the detail.
	where string
	expr  hcl.Expression
	kind  argKind
}

// args lists every argument rb sets.
func (rb *Runbook) args() []runbookArg {
	in := fmt.Sprintf("runbook %q", rb.Name)
	out := []runbookArg{{"rpo", in, rb.RPO, argDuration}, {"rto", in, rb.RTO, argDuration}}
	if t := rb.Trigger; t != nil {
		out = append(out, runbookArg{"heartbeat", in, t.Heartbeat, argHost},
			runbookArg{"interval", in, t.Interval, argDuration}, runbookArg{"missed", in, t.Missed, argCount},
			runbookArg{"witness", in, t.Witness, argHost})
	}
	for _, name := range rb.stepNames() {
		out = append(out, stepArgs(rb.Steps[name], fmt.Sprintf("step %q of runbook %q", name, rb.Name))...)
	}
	return out
}

// stepArgs lists the arguments of step s, which is at where.
func stepArgs(s *Step, at string) []runbookArg {
	out := []runbookArg{
		{"count", at, s.Count, argTries}, {"for_each", at, s.ForEach, argForEach},
		{"host", at, s.Host, argHost}, {"run", at, s.Run, argArgv},
		{"timeout", at, s.Timeout, argDuration}, {"import", at, s.Import, argCapture},
		{"env", at, s.Env, argEnv}, {"dir", at, s.Dir, argText},
		{"retries", at, s.Retries, argTries}, {"retry_delay", at, s.RetryDelay, argDuration},
		{"on_failure", at, s.OnFailure, argOnFailure},
		{"set_default", at, s.SetDefault, argBootEntry}, {"set_next", at, s.SetNext, argBootEntry},
		{"reboot", at, s.Reboot, argBool}, {"reboot_command", at, s.RebootCommand, argArgv},
		{"reboot_probe", at, s.RebootProbe, argArgv},
		{"prompt", at, s.Prompt, argText}, {"wait", at, s.Wait, argDuration},
		{"check", at, s.Check, argBool}, {"stop", at, s.Stop, argGuest}}
	for _, group := range []struct {
		block string
		list  []*Assertion
	}{{"check", s.Checks}, {"precondition", s.Preconditions}, {"postcondition", s.Postconditions}} {
		for _, a := range group.list {
			out = append(out, assertionArgs(a, fmt.Sprintf("a %s block of %s", group.block, at))...)
		}
	}
	return out
}

// checkRunbooks checks the references and known values of every runbook,
// and the references of the resources their steps hold.
func (cfg *Config) checkRunbooks() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range slices.Sorted(maps.Keys(cfg.Runbooks)) {
		rb := cfg.Runbooks[name]
		held := map[addrs.Resource]bool{}
		for _, s := range rb.Steps {
			for addr := range s.Resources {
				held[addr] = true
			}
		}
		for _, a := range rb.args() {
			if a.expr != nil {
				diags = append(diags, cfg.checkRunbookArg(rb, a, held)...)
			}
		}
		// The drill block's arguments are checked against the runbook as
		// drilled, whose steps its own steps may name.
		if rb.Drill != nil {
			dr := rb.ForDrill()
			for _, a := range rb.drillArgs() {
				if a.expr != nil {
					diags = append(diags, cfg.checkRunbookArg(dr, a, held)...)
				}
			}
		}
		for _, sn := range rb.stepNames() {
			for _, r := range sortedResources(rb.Steps[sn].Resources) {
				travs := nativeTraversals(r.Config, nil)
				for _, e := range []hcl.Expression{r.Count, r.ForEach} {
					if e != nil {
						travs = append(travs, e.Variables()...)
					}
				}
				refs, d := TraversalRefs(travs)
				diags = append(diags, d...)
				diags = append(diags, cfg.undeclared(rb, refs, held)...)
			}
		}
	}
	return diags
}

// undeclared reports the references of refs to nothing declared, counting
// the resources held by rb's steps as declared; step.NAME names a step of
// rb (what the runbook engine will answer).
func (cfg *Config) undeclared(rb *Runbook, refs []Ref, held map[addrs.Resource]bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, ref := range refs {
		switch {
		case ref.Kind == RefStep:
			diags = append(diags, rb.checkStepRef(StepRefOf(ref))...)
		case !cfg.declares(ref) && !(ref.Kind == RefResource && held[ref.Resource]):
			diags = append(diags, cfg.UndeclaredRef(ref))
		}
	}
	return diags
}

func (cfg *Config) checkRunbookArg(rb *Runbook, a runbookArg, held map[addrs.Resource]bool) hcl.Diagnostics {
	refs, diags := ExprRefs(a.expr)
	if diags.HasErrors() {
		return diags
	}
	if d := cfg.undeclared(rb, refs, held); d.HasErrors() {
		return append(diags, d...)
	}
	fail := func(format string, args ...any) hcl.Diagnostics {
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + a.name + " argument",
			Detail:  fmt.Sprintf("In %s, %s ", a.where, a.name) + fmt.Sprintf(format, args...),
			Subject: a.expr.Range().Ptr()})
	}
	switch a.kind {
	case argCapture, argBootEntry, argReplicationSet, argDriveCopy, argGuest:
		want, example := "registry_capture", "registry_capture.doubletake"
		switch a.kind {
		case argBootEntry:
			want, example = "boot_entry", "boot_entry.source_os"
		case argReplicationSet:
			want, example = "replication_set", "replication_set.shares"
		case argDriveCopy:
			want, example = "drive_copy", "drive_copy.system"
		case argGuest:
			want, example = "vm_guest", "vm_guest.fs1"
		}
		if _, d := hcl.AbsTraversalForExpr(a.expr); d.HasErrors() || len(refs) != 1 || refs[0].Kind != RefResource ||
			refs[0].Resource.Mode != addrs.Managed || refs[0].Resource.Type != want {
			return fail("names a %s resource, like %s.", want, example)
		}
		return diags
	case argForEach:
		return diags
	case argHost:
		// A host reaches here through host.NAME, or a variable or local
		// holding one; a resource or a literal is no host.
		if len(refs) == 0 || slices.ContainsFunc(refs, func(r Ref) bool { return r.Kind == RefResource }) {
			return fail("names a host, like host.fs2.")
		}
		return diags
	}
	v, d := (&Scope{Data: loadData{}, BaseDir: cfg.Dir}).EvalExpr(a.expr, cty.DynamicPseudoType)
	diags = append(diags, d...)
	if d.HasErrors() {
		return diags
	}
	v, marks := v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		return diags
	}
	shown := func(s string) string {
		if len(marks) > 0 {
			return "the sensitive value given"
		}
		return fmt.Sprintf("%q", s)
	}
	switch a.kind {
	case argDuration:
		s, err := convert.Convert(v, cty.String)
		if err != nil || s.IsNull() {
			return fail("must be a duration like \"90s\", \"15m\" or \"2h30m\".")
		}
		if d, err := time.ParseDuration(s.AsString()); err != nil || d <= 0 {
			return fail("must be a positive duration like \"90s\", \"15m\" or \"2h30m\"; %s is not.", shown(s.AsString()))
		}
	case argAge:
		s, err := convert.Convert(v, cty.String)
		if err != nil || s.IsNull() {
			return fail("must be an age like \"30d\", \"36h\" or \"90m\".")
		}
		if _, err := ParseAge(s.AsString()); err != nil {
			return fail("must be a positive age like \"30d\", \"36h\" or \"90m\"; %s is not.", shown(s.AsString()))
		}
	case argCount:
		n, err := convert.Convert(v, cty.Number)
		if err != nil || n.IsNull() || !n.AsBigFloat().IsInt() || n.AsBigFloat().Sign() <= 0 {
			return fail("must be a whole number of 1 or more.")
		}
	case argTries:
		n, err := convert.Convert(v, cty.Number)
		if err != nil || n.IsNull() || !n.AsBigFloat().IsInt() || n.AsBigFloat().Sign() < 0 {
			return fail("must be a whole number of 0 or more.")
		}
	case argEnv:
		if m, err := convert.Convert(v, cty.Map(cty.String)); err != nil || m.IsNull() {
			return fail("must be a map of strings, like { SITE = \"b\" }.")
		}
	case argOnFailure:
		s, err := convert.Convert(v, cty.String)
		if err != nil || s.IsNull() || !slices.Contains(OnFailureChoices, s.AsString()) {
			return fail("must be one of \"abort\", \"continue\" or \"prompt\".")
		}
	case argBool:
		if b, err := convert.Convert(v, cty.Bool); err != nil || b.IsNull() {
			return fail("must be true or false.")
		}
	case argText:
		if s, err := convert.Convert(v, cty.String); err != nil || s.IsNull() || s.AsString() == "" {
			return fail("must be a non-empty string.")
		}
	case argString:
		if s, err := convert.Convert(v, cty.String); err != nil || s.IsNull() {
			return fail("must be a string.")
		}
	case argRegValue:
		m, err := convert.Convert(v, cty.Map(cty.String))
		ok := err == nil && !m.IsNull()
		if ok {
			for k := range m.AsValueMap() {
				ok = ok && slices.Contains([]string{"hive", "prefix", "key", "name"}, k)
			}
			ok = ok && m.LengthInt() > 0 && m.HasIndex(cty.StringVal("key")).True() && m.HasIndex(cty.StringVal("name")).True()
		}
		if !ok {
			return fail("names a value: { key = \"HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Product\", name = \"Version\" }, with hive = \"/path/of/hive\" (and prefix) for an offline hive (name = \"\" is the key's default value).")
		}
	case argArgv:
		l, err := convert.Convert(v, cty.List(cty.String))
		if err != nil || l.IsNull() || l.LengthInt() == 0 {
			return fail("must be a list of strings: a program and its arguments, like [\"/opt/dr/pre-failover.sh\"] (never a shell string).")
		}
		for i, it := 0, l.ElementIterator(); it.Next(); i++ {
			if _, e := it.Element(); e.IsNull() || (i == 0 && e.AsString() == "") {
				return fail("must not hold null, and its first element names the program to run.")
			}
		}
	}
	return diags
}

// loadData answers every reference, steps included, with an unknown
// value: while loading, only literals are known.
type loadData struct{}

func (loadData) Step(string) cty.Value             { return cty.DynamicVal }
func (loadData) Var(string) cty.Value              { return cty.DynamicVal }
func (loadData) Local(string) cty.Value            { return cty.DynamicVal }
func (loadData) Host(string) cty.Value             { return cty.DynamicVal }
func (loadData) Resource(addrs.Resource) cty.Value { return cty.DynamicVal }
