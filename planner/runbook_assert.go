package planner

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// planAssertions plans the check, precondition or postcondition blocks of
// a step. hostVal is the step's host (cty.NilVal when it has none), which
// the checks that act from a host (all but a lag or an age) need.
func (r *run) planAssertions(scope *lang.Scope, rb *lang.Runbook, s *lang.Step, block string, list []*lang.Assertion, hostVal cty.Value) ([]*plan.Assertion, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var out []*plan.Assertion
	for _, a := range list {
		pa, d := r.planAssertion(scope, rb, s, block, a, hostVal)
		diags = append(diags, d...)
		if pa != nil {
			out = append(out, pa)
		}
	}
	return out, diags
}

func (r *run) planAssertion(scope *lang.Scope, rb *lang.Runbook, s *lang.Step, block string, a *lang.Assertion, hostVal cty.Value) (*plan.Assertion, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	pa := &plan.Assertion{Kind: a.Kind}
	fail := func(summary, format string, args ...any) (*plan.Assertion, hcl.Diagnostics) {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
			Detail:  fmt.Sprintf("In a %s block of step %q of runbook %q: ", block, s.Name, rb.Name) + fmt.Sprintf(format, args...),
			Subject: a.DeclRange.Ptr()})
	}
	expect := map[string]cty.Value{}
	for _, name := range slices.Sorted(maps.Keys(a.Expect)) {
		ty := cty.String
		if name == "status" || name == "exit_code" {
			ty = cty.Number
		}
		v, d := evalKnown(scope, a.Expect[name], ty)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		expect[name] = v
	}

	switch a.Kind {
	case "replication_lag", "drive_copy_age":
		inst, d := r.stepResource(a.Target, s, rb)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		below, err := time.ParseDuration(expect["below"].AsString())
		if err != nil || below <= 0 {
			return fail("Invalid below argument", "below must be a positive duration like \"5m\"; %q is not.", expect["below"].AsString())
		}
		pa.Target, pa.Expect = inst.Addr.String(), "below "+below.String()
		window, known := dataLossWindow(inst, time.Now())
		holds := known && window < below
		pa.Holds = &holds
		what := "lag"
		if a.Kind == "drive_copy_age" {
			what = "age"
		}
		switch {
		case !known:
			pa.Detail = fmt.Sprintf("the state does not tell the %s of %s: apply it first", what, inst.Addr)
		default:
			pa.Detail = fmt.Sprintf("%s %s", what, plan.RoundDuration(window))
		}
		return pa, diags
	}

	if hostVal == cty.NilVal {
		return fail("Check needs a host", "a %s check acts from a host: set the step's host, like host = host.fs2.", a.Kind)
	}
	args := map[string]cty.Value{"host": hostVal}
	switch a.Kind {
	case "registry_value":
		v, d := evalKnown(scope, a.Target, cty.Map(cty.String))
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		m := v.AsValueMap()
		for _, name := range []string{"hive", "prefix", "key", "name"} {
			args[name] = cty.NullVal(cty.String)
			if m[name] != cty.NilVal {
				args[name] = m[name]
			}
		}
		if args["key"].IsNull() || args["name"].IsNull() {
			return fail("Invalid registry_value argument", "registry_value names a key and a value name, like { key = \"HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Product\", name = \"Version\" }.")
		}
		args["equals"] = cty.NullVal(cty.String)
		if e, ok := expect["equals"]; ok {
			args["equals"] = e
			pa.Expect = "equals " + strconv.Quote(e.AsString())
		}
		pa.Target = args["key"].AsString() + `\` + args["name"].AsString()
		pa.Invoke = &plan.Invoke{Provider: registryProvider, Action: "registry_value", Args: cty.ObjectVal(args)}
		return pa, diags
	case "command":
		argv, d := evalKnown(scope, a.Target, cty.List(cty.String))
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		var words []string
		for _, w := range argv.AsValueSlice() {
			words = append(words, shellWord(w.AsString()))
		}
		pa.Target = strings.Join(words, " ")
		args["command"] = argv
	default:
		v, d := evalKnown(scope, a.Target, cty.String)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		pa.Target = v.AsString()
		args[a.Kind] = v
	}
	for _, name := range []string{"status", "exit_code"} {
		if v, ok := expect[name]; ok {
			if !v.AsBigFloat().IsInt() {
				return fail("Invalid "+name+" argument", "%s must be a whole number.", name)
			}
		}
	}
	switch a.Kind {
	case "http":
		status, ok := expect["status"]
		if !ok {
			status = cty.NumberIntVal(200)
		}
		args["status"] = status
		pa.Expect = "status " + status.AsBigFloat().String()
	case "command":
		code, ok := expect["exit_code"]
		if !ok {
			code = cty.NumberIntVal(0)
		}
		args["exit_code"] = code
		pa.Expect = "exit code " + code.AsBigFloat().String()
	case "file":
		if c, ok := expect["contains"]; ok {
			args["contains"] = c
			pa.Expect = "contains " + strconv.Quote(c.AsString())
		}
	}
	pa.Invoke = &plan.Invoke{Provider: coreProvider, Action: "check", Args: checkArgs(args)}
	return pa, diags
}

// checkArgs completes the arguments of the core provider's check action
// with nulls for what a check of one kind does not set.
func checkArgs(args map[string]cty.Value) cty.Value {
	types := map[string]cty.Type{"tcp": cty.String, "http": cty.String, "status": cty.Number, "command": cty.List(cty.String),
		"exit_code": cty.Number, "file": cty.String, "contains": cty.String}
	for name, ty := range types {
		if _, ok := args[name]; !ok {
			args[name] = cty.NullVal(ty)
		}
	}
	return cty.ObjectVal(args)
}

// assertionsSummary says what a check step checks.
func assertionsSummary(list []*plan.Assertion) string {
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = a.String()
		if a.Holds != nil {
			now := "does not hold now"
			if *a.Holds {
				now = "holds now"
			}
			parts[i] += fmt.Sprintf(" (%s: %s)", now, a.Detail)
		}
	}
	return "check " + strings.Join(parts, "; ")
}
