package lang

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Assertion is one thing a runbook checks: a check block (a step whose
// action is to check), or a step's precondition (checked before it acts)
// or postcondition (checked after). It sets exactly one kind, the
// argument naming what is checked, and the expectations of that kind.
type Assertion struct {
	// Kind is one of AssertionKinds; Target is its argument.
	Kind   string
	Target hcl.Expression
	// Expect holds the expectations set (status, exit_code, contains,
	// equals, below), by name.
	Expect    map[string]hcl.Expression
	DeclRange hcl.Range
}

// AssertionKinds are what an assertion may check, with the expectations
// each takes; the first of a kind's expectations listed in
// requiredExpectations must be set.
var AssertionKinds = map[string][]string{
	"tcp":             nil,
	"http":            {"status"},
	"command":         {"exit_code"},
	"file":            {"contains"},
	"registry_value":  {"equals"},
	"replication_lag": {"below"},
	"drive_copy_age":  {"below"},
}

// requiredExpectations are the expectations an assertion of a kind cannot
// do without: a lag or an age is checked against a bound.
var requiredExpectations = map[string]string{"replication_lag": "below", "drive_copy_age": "below"}

// assertionKinds lists AssertionKinds in the order they are documented.
var assertionKinds = []string{"tcp", "http", "command", "file", "registry_value", "replication_lag", "drive_copy_age"}

var assertionSchema = &hcl.BodySchema{Attributes: attrSchema("tcp", "http", "status", "command", "exit_code", "file", "contains",
	"registry_value", "equals", "replication_lag", "drive_copy_age", "below")}

// decodeAssertion reads a check, precondition or postcondition block.
func decodeAssertion(block *hcl.Block) (*Assertion, hcl.Diagnostics) {
	content, diags := bodyContent(block.Body, assertionSchema)
	a := &Assertion{Expect: map[string]hcl.Expression{}, DeclRange: block.DefRange}
	var kinds []*hcl.Attribute
	for _, k := range assertionKinds {
		if attr := content.Attributes[k]; attr != nil {
			kinds = append(kinds, attr)
		}
	}
	switch len(kinds) {
	case 0:
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Check checks nothing",
			Detail:  fmt.Sprintf("A %s block sets exactly one of %s.", block.Type, strings.Join(assertionKinds, ", ")),
			Subject: block.DefRange.Ptr()})
	case 1:
	default:
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Check checks more than one thing",
			Detail:  fmt.Sprintf("This %s block sets %s and %s; it checks one thing. Write one block for each.", block.Type, kinds[0].Name, kinds[1].Name),
			Subject: kinds[1].NameRange.Ptr()})
	}
	a.Kind, a.Target = kinds[0].Name, kinds[0].Expr
	takes := AssertionKinds[a.Kind]
	for name, attr := range content.Attributes {
		if name == a.Kind {
			continue
		}
		if !slices.Contains(takes, name) {
			detail := fmt.Sprintf("A %s check takes no %s.", a.Kind, name)
			if len(takes) > 0 {
				detail = fmt.Sprintf("A %s check takes %s, not %s.", a.Kind, strings.Join(takes, ", "), name)
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Expectation of another kind of check",
				Detail: detail, Subject: attr.NameRange.Ptr()})
			continue
		}
		a.Expect[name] = attr.Expr
	}
	if need := requiredExpectations[a.Kind]; need != "" && a.Expect[need] == nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing bound",
			Detail:  fmt.Sprintf("A %s check says what it must stay %s, like %s = \"5m\".", a.Kind, need, need),
			Subject: block.DefRange.Ptr()})
	}
	return a, diags
}

// assertionArgs lists the arguments of an assertion for checkRunbookArg.
func assertionArgs(a *Assertion, where string) []runbookArg {
	target := map[string]argKind{"tcp": argText, "http": argText, "command": argArgv, "file": argText,
		"registry_value": argRegValue, "replication_lag": argReplicationSet, "drive_copy_age": argDriveCopy}
	expect := map[string]argKind{"status": argCount, "exit_code": argTries, "contains": argString, "equals": argString, "below": argDuration}
	out := []runbookArg{{a.Kind, where, a.Target, target[a.Kind]}}
	for _, name := range slices.Sorted(maps.Keys(a.Expect)) {
		out = append(out, runbookArg{name, where, a.Expect[name], expect[name]})
	}
	return out
}
