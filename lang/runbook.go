package lang

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/internal/suggest"
	"github.com/hashicorp/hcl/v2"
)

var (
	runbookSchema = &hcl.BodySchema{
		Attributes: attrSchema("rpo", "rto"),
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "trigger"},
			{Type: "step", LabelNames: []string{"name"}},
			{Type: "drill"},
		},
	}
	triggerSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "heartbeat", Required: true},
			{Name: "interval"},
			{Name: "missed"},
			{Name: "witness"},
		},
	}
	stepSchema = &hcl.BodySchema{
		Attributes: attrSchema("count", "for_each", "after", "host", "timeout", "run", "env", "dir", "retries", "retry_delay", "on_failure",
			"import", "set_default", "set_next", "reboot", "reboot_command", "reboot_probe", "prompt", "wait", "check", "stop"),
		Blocks: []hcl.BlockHeaderSchema{{Type: "resource", LabelNames: []string{"type", "name"}},
			{Type: "check"}, {Type: "precondition"}, {Type: "postcondition"}},
	}
	// stepActions are the arguments of which a step sets exactly one.
	stepActions = []string{"run", "import", "set_default", "set_next", "reboot", "prompt", "wait", "check", "stop"}
)

func attrExpr(attrs hcl.Attributes, name string) hcl.Expression {
	if a := attrs[name]; a != nil {
		return a.Expr
	}
	return nil
}

func (cfg *Config) decodeRunbook(block *hcl.Block) hcl.Diagnostics {
	rb := &Runbook{Name: block.Labels[0], Steps: map[string]*Step{}, DeclRange: block.DefRange}
	content, diags := bodyContent(block.Body, runbookSchema)
	rb.RPO = attrExpr(content.Attributes, "rpo")
	rb.RTO = attrExpr(content.Attributes, "rto")
	for _, b := range content.Blocks {
		switch b.Type {
		case "trigger":
			if rb.Trigger != nil {
				diags = append(diags, duplicateSingleton("trigger", rb.Trigger.DeclRange, b.DefRange))
				continue
			}
			c, d := bodyContent(b.Body, triggerSchema)
			diags = append(diags, d...)
			rb.Trigger = &Trigger{
				Heartbeat: attrExpr(c.Attributes, "heartbeat"),
				Interval:  attrExpr(c.Attributes, "interval"),
				Missed:    attrExpr(c.Attributes, "missed"),
				Witness:   attrExpr(c.Attributes, "witness"),
				DeclRange: b.DefRange,
			}
		case "drill":
			if rb.Drill != nil {
				diags = append(diags, duplicateSingleton("drill", rb.Drill.DeclRange, b.DefRange))
				continue
			}
			d, dd := decodeDrill(b)
			diags = append(diags, dd...)
			rb.Drill = d
		case "step":
			if !validLabels(b, &diags) {
				continue
			}
			s, d := decodeStep(b)
			diags = append(diags, d...)
			if prev, ok := rb.Steps[s.Name]; ok {
				diags = append(diags, duplicate("step", s.Name, prev.DeclRange, s.DeclRange))
				continue
			}
			rb.Steps[s.Name] = s
		}
	}
	diags = append(diags, rb.checkResources()...)
	diags = append(diags, rb.checkAfter()...)
	diags = append(diags, rb.checkCycles()...)
	diags = append(diags, rb.checkDrill()...)
	if prev, ok := cfg.Runbooks[rb.Name]; ok {
		return append(diags, duplicate("runbook", rb.Name, prev.DeclRange, rb.DeclRange))
	}
	cfg.Runbooks[rb.Name] = rb
	return diags
}

func decodeStep(block *hcl.Block) (*Step, hcl.Diagnostics) {
	s := &Step{Name: block.Labels[0], Resources: map[addrs.Resource]*Resource{}, DeclRange: block.DefRange}
	content, diags := bodyContent(block.Body, stepSchema)
	attrs := content.Attributes
	s.Host = attrExpr(attrs, "host")
	s.Timeout = attrExpr(attrs, "timeout")
	s.Run = attrExpr(attrs, "run")
	s.Env = attrExpr(attrs, "env")
	s.Dir = attrExpr(attrs, "dir")
	s.Retries = attrExpr(attrs, "retries")
	s.RetryDelay = attrExpr(attrs, "retry_delay")
	s.OnFailure = attrExpr(attrs, "on_failure")
	s.SetNext = attrExpr(attrs, "set_next")
	s.RebootCommand = attrExpr(attrs, "reboot_command")
	s.RebootProbe = attrExpr(attrs, "reboot_probe")
	s.Import = attrExpr(attrs, "import")
	s.SetDefault = attrExpr(attrs, "set_default")
	s.Reboot = attrExpr(attrs, "reboot")
	s.Prompt = attrExpr(attrs, "prompt")
	s.Wait = attrExpr(attrs, "wait")
	s.Check = attrExpr(attrs, "check")
	s.Stop = attrExpr(attrs, "stop")
	var repDiags hcl.Diagnostics
	s.Count, s.ForEach, repDiags = decodeRepetition(attrs, "step")
	diags = append(diags, repDiags...)
	for _, e := range []hcl.Expression{s.Count, s.ForEach} {
		if e == nil {
			continue
		}
		for _, t := range e.Variables() {
			if t.RootName() == "step" {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Step instances depend on a step",
					Detail:   fmt.Sprintf("Step %q is repeated by a value that refers to a step, whose outcome is known only as the run goes: the plan must know every instance. Repeat it by variables, locals or applied resources.", s.Name),
					Subject:  t.SourceRange().Ptr(),
				})
			}
		}
	}
	// The resources a step holds repeat by their own count and for_each;
	// after is checked by decodeAfter, which knows when it is plain
	// references only (the common case, and thousands of them in a large
	// runbook).
	diags = append(diags, checkInstanceRefs(nativeTraversals(block.Body, []string{"count", "for_each", "resource", "after"}), s.Count != nil, s.ForEach != nil)...)
	if a := attrs["after"]; a != nil {
		var d hcl.Diagnostics
		s.After, s.AfterExpr, d = decodeAfter(a.Expr)
		diags = append(diags, d...)
		if s.AfterExpr != nil {
			diags = append(diags, checkInstanceRefs(s.AfterExpr.Variables(), s.Count != nil, s.ForEach != nil)...)
		}
	}
	for _, b := range content.Blocks {
		switch b.Type {
		case "check", "precondition", "postcondition":
			a, d := decodeAssertion(b)
			diags = append(diags, d...)
			if a == nil {
				continue
			}
			switch b.Type {
			case "check":
				s.Checks = append(s.Checks, a)
			case "precondition":
				s.Preconditions = append(s.Preconditions, a)
			default:
				s.Postconditions = append(s.Postconditions, a)
			}
			continue
		}
		if !validLabels(b, &diags) {
			continue
		}
		r, d := decodeResource(b)
		diags = append(diags, d...)
		if prev, ok := s.Resources[r.Addr]; ok {
			diags = append(diags, duplicate("resource", r.Addr.String(), prev.DeclRange, r.DeclRange))
			continue
		}
		s.Resources[r.Addr] = r
	}

	var set []*hcl.Attribute
	for _, name := range stepActions {
		if a := attrs[name]; a != nil {
			set = append(set, a)
		}
	}
	if len(s.Checks) > 0 {
		// Check blocks are the check action too, however many.
		set = append(set, &hcl.Attribute{Name: "check blocks", NameRange: s.Checks[0].DeclRange})
	}
	if len(s.Resources) > 0 && (s.Count != nil || s.ForEach != nil) {
		arg := attrs["count"]
		if arg == nil {
			arg = attrs["for_each"]
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Repeated step of resources",
			Detail:   fmt.Sprintf("Step %q holds resources and sets %s. A step of resources is not repeated: give its resources count or for_each instead, and they are all held by the one step.", s.Name, arg.Name),
			Subject:  arg.NameRange.Ptr(),
		})
	}
	if len(s.Resources) > 0 && len(s.Preconditions)+len(s.Postconditions) > 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Conditions on a step of resources",
			Detail:   fmt.Sprintf("Step %q holds resources, whose plan says what they need; precondition and postcondition go on steps that perform an action. Put the check in a step of its own, ordered with after.", s.Name),
			Subject:  s.DeclRange.Ptr(),
		})
	}
	switch {
	case len(s.Resources) > 0 && len(set) > 0:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Step mixes resources and an action",
			Detail:   fmt.Sprintf("Step %q holds resources and also sets %s. A step either holds resources or performs one action; move the action into a step of its own, ordered with after.", s.Name, set[0].Name),
			Subject:  set[0].NameRange.Ptr(),
		})
	case len(s.Resources) > 0:
	case len(set) == 0:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Step has no action",
			Detail:   fmt.Sprintf("Step %q does nothing. Give it exactly one of %s (check as a condition or as check blocks), or nested resource blocks.", s.Name, strings.Join(stepActions, ", ")),
			Subject:  s.DeclRange.Ptr(),
		})
	case len(set) == 1:
	case len(set) == 2 && (attrs["set_default"] != nil || attrs["set_next"] != nil) && attrs["reboot"] != nil:
	default:
		names := make([]string, len(set))
		hint := ""
		for i, a := range set {
			names[i] = a.Name
			if a.Name == "check blocks" {
				hint = " To check something before or after a step acts, give it precondition or postcondition blocks."
			}
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Step has more than one action",
			Detail:   fmt.Sprintf("Step %q sets %s. A step performs exactly one action (reboot may accompany set_default or set_next); split it into steps ordered with after.%s", s.Name, strings.Join(names, " and "), hint),
			Subject:  set[1].NameRange.Ptr(),
		})
	}
	return s, diags
}

// stepNames lists the runbook's steps in name order, the order every check
// reports in.
func (rb *Runbook) stepNames() []string {
	names := make([]string, 0, len(rb.Steps))
	for n := range rb.Steps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// StepRef names a step in an after list: every instance of it (all of a
// repeated step's), or, with Key, the one instance of that key. A
// Computed one is a step the after expression refers to: which of its
// instances an instance waits for, if any, is known once the planner has
// evaluated the expression for that instance.
type StepRef struct {
	Name     string
	Key      *addrs.Key
	Range    hcl.Range
	Computed bool
}

// decodeAfter reads a step's after argument: a list of plain references
// (step.NAME or step.NAME[KEY], KEY a literal), or else an expression
// that gives one for each instance (step.x[count.index - 1], or
// count.index > 0 ? [...] : []), returned as expr with the steps it
// refers to.
func decodeAfter(e hcl.Expression) (refs []StepRef, expr hcl.Expression, diags hcl.Diagnostics) {
	invalid := func(e hcl.Expression) *hcl.Diagnostic {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid after entry",
			Detail:   `after lists steps of this runbook, like step.prepare, or instances of a repeated step, like step.check[0], step.check["a"] or step.check[count.index - 1].`,
			Subject:  e.Range().Ptr(),
		}
	}
	if exprs, d := hcl.ExprList(e); !d.HasErrors() {
		refs = make([]StepRef, 0, len(exprs))
		computed := false
		for _, e := range exprs {
			if ref, ok := afterRef(e); ok {
				refs = append(refs, ref)
				continue
			}
			if !refersToStep(e) {
				diags = append(diags, invalid(e))
			}
			computed = true
		}
		if diags.HasErrors() {
			return nil, nil, diags
		}
		if !computed {
			return refs, nil, nil
		}
		refs = refs[:0]
	}
	for _, t := range e.Variables() {
		if t.RootName() != "step" {
			continue
		}
		ref, d := parseRef(t)
		if d != nil {
			diags = append(diags, d)
			continue
		}
		sr := StepRefOf(ref)
		sr.Computed = true
		refs = append(refs, sr)
	}
	if len(refs) == 0 && !diags.HasErrors() {
		diags = append(diags, invalid(e))
	}
	return refs, e, diags
}

// refersToStep reports whether e refers to a step.
func refersToStep(e hcl.Expression) bool {
	return slices.ContainsFunc(e.Variables(), func(t hcl.Traversal) bool { return t.RootName() == "step" })
}

// whole reports whether ref waits for every instance of its step.
func (ref StepRef) whole() bool { return ref.Key == nil && !ref.Computed }

// afterRef reads an after entry: step.NAME or step.NAME[KEY], KEY a
// literal number or string.
func afterRef(e hcl.Expression) (StepRef, bool) {
	trav, d := hcl.AbsTraversalForExpr(e)
	if d.HasErrors() || len(trav) < 2 || len(trav) > 3 || trav.RootName() != "step" {
		return StepRef{}, false
	}
	name, ok := trav[1].(hcl.TraverseAttr)
	if !ok {
		return StepRef{}, false
	}
	ref := StepRef{Name: name.Name, Range: trav.SourceRange()}
	if len(trav) == 3 {
		idx, ok := trav[2].(hcl.TraverseIndex)
		if !ok {
			return StepRef{}, false
		}
		k, ok := instanceKey(idx.Key)
		if !ok {
			return StepRef{}, false
		}
		ref.Key = &k
	}
	return ref, true
}

// StepRefOf reads a step.NAME reference of an expression as a StepRef:
// with the instance key a literal index after it gives (step.x[2].status),
// without one otherwise (step.x, or an index computed as it runs).
func StepRefOf(ref Ref) StepRef {
	sr := StepRef{Name: ref.Name, Range: ref.Range}
	if len(ref.Remaining) > 0 {
		if idx, ok := ref.Remaining[0].(hcl.TraverseIndex); ok {
			if k, ok := instanceKey(idx.Key); ok {
				sr.Key = &k
				sr.Range = hcl.RangeBetween(ref.Range, idx.SrcRange)
			}
		}
	}
	return sr
}

// StepID is the identity of one instance of a step everywhere a step is
// named (plan, journal, run record, --approve): the step's name, followed
// by the instance key of a repeated step, as check[3] or check["a"].
func StepID(name string, key addrs.Key) string { return name + key.String() }

// ParseStepID reads a step instance as a user names it: NAME, NAME[3],
// NAME["a"], with or without a leading "step.".
func ParseStepID(s string) (name string, key addrs.Key, err error) {
	text := s
	if !strings.HasPrefix(text, "step.") {
		text = "step." + text
	}
	inst, err := addrs.ParseInstance(text)
	if err != nil || inst.Mode != addrs.Managed || inst.Type != "step" {
		return "", addrs.Key{}, fmt.Errorf("invalid step %q: name a step like prepare, check[3] or check[\"a\"]", s)
	}
	return inst.Name, inst.Key, nil
}

// checkResources rejects one resource address held by two steps.
func (rb *Runbook) checkResources() hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[addrs.Resource]*Resource{}
	for _, name := range rb.stepNames() {
		for _, r := range sortedResources(rb.Steps[name].Resources) {
			if prev, ok := seen[r.Addr]; ok {
				diags = append(diags, duplicate("resource", r.Addr.String(), prev.DeclRange, r.DeclRange))
				continue
			}
			seen[r.Addr] = r
		}
	}
	return diags
}

func (rb *Runbook) checkAfter() hcl.Diagnostics {
	var diags hcl.Diagnostics
	names := rb.stepNames()
	for _, name := range names {
		for _, ref := range rb.Steps[name].After {
			diags = append(diags, rb.checkStepRef(ref)...)
		}
	}
	return diags
}

// checkStepRef checks that ref names a step of rb, and an instance key
// only of a repeated step, of the kind its repetition makes.
func (rb *Runbook) checkStepRef(ref StepRef) hcl.Diagnostics {
	target := rb.Steps[ref.Name]
	if target == nil {
		return hcl.Diagnostics{rb.undeclaredStep(ref.Name, ref.Range)}
	}
	if ref.Key == nil {
		return nil
	}
	var detail string
	switch {
	case target.Count == nil && target.ForEach == nil:
		detail = fmt.Sprintf("Step %q sets neither count nor for_each, so it has no instances to choose from: name it as step.%s.", ref.Name, ref.Name)
	case target.Count != nil && ref.Key.Kind != addrs.IntKey:
		detail = fmt.Sprintf("Step %q sets count: its instances are numbered from 0, like step.%s[0].", ref.Name, ref.Name)
	case target.ForEach != nil && ref.Key.Kind != addrs.StrKey:
		detail = fmt.Sprintf("Step %q sets for_each: its instances are named by the for_each keys, like step.%s[\"a\"].", ref.Name, ref.Name)
	default:
		return nil
	}
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid step instance key", Detail: detail, Subject: ref.Range.Ptr()}}
}

// undeclaredStep reports a reference to a step rb does not have.
func (rb *Runbook) undeclaredStep(name string, rng hcl.Range) *hcl.Diagnostic {
	detail := fmt.Sprintf("Runbook %q has no step named %q.", rb.Name, name)
	if s := suggest.Nearest(name, rb.stepNames()); s != "" {
		detail += fmt.Sprintf(" Did you mean %q?", s)
	} else {
		detail += " Only the steps of the same runbook can be named."
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Reference to undeclared step", Detail: detail, Subject: rng.Ptr()}
}

// checkCycles reports every group of steps that wait for each other,
// found as the strongly connected components of the after graph (Tarjan)
// of the entries naming whole steps: those wait whatever the instances.
// One instance waiting for another (step.x[0], step.x[count.index - 1])
// is a cycle only if the instances loop, which the planner sees once it
// knows them.
func (rb *Runbook) checkCycles() hcl.Diagnostics {
	names := rb.stepNames()
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var components [][]string
	var visit func(n string)
	visit = func(n string) {
		index[n] = len(index)
		low[n] = index[n]
		stack = append(stack, n)
		onStack[n] = true
		for _, ref := range rb.Steps[n].After {
			m := ref.Name
			if _, ok := rb.Steps[m]; !ok || !ref.whole() {
				continue
			}
			if _, seen := index[m]; !seen {
				visit(m)
				low[n] = min(low[n], low[m])
			} else if onStack[m] {
				low[n] = min(low[n], index[m])
			}
		}
		if low[n] != index[n] {
			return
		}
		var comp []string
		for {
			m := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[m] = false
			comp = append(comp, m)
			if m == n {
				break
			}
		}
		components = append(components, comp)
	}
	for _, n := range names {
		if _, seen := index[n]; !seen {
			visit(n)
		}
	}

	var diags hcl.Diagnostics
	for _, comp := range components {
		sort.Strings(comp)
		first := rb.Steps[comp[0]]
		var subject *hcl.Range
		for _, ref := range first.After {
			if ref.whole() && slices.Contains(comp, ref.Name) {
				subject = ref.Range.Ptr()
				break
			}
		}
		if subject == nil {
			continue // a single step that does not wait for itself
		}
		members := make([]string, len(comp))
		for i, n := range comp {
			members[i] = "step." + n
		}
		detail := fmt.Sprintf("In runbook %q, %s wait for each other through after, so none of them can start. Remove one of the after entries between them.", rb.Name, strings.Join(members, ", "))
		if len(comp) == 1 {
			detail = fmt.Sprintf("In runbook %q, step.%s waits for itself through after, so it can never start. Remove that after entry.", rb.Name, comp[0])
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cycle between runbook steps",
			Detail:   detail,
			Subject:  subject,
		})
	}
	sort.SliceStable(diags, func(i, j int) bool { return diags[i].Subject.Start.Byte < diags[j].Subject.Start.Byte })
	return diags
}

func sortedResources(m map[addrs.Resource]*Resource) []*Resource {
	out := make([]*Resource, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr.String() < out[j].Addr.String() })
	return out
}

// checkRunbookResources rejects a step resource that has the address of a
// top-level resource: both would claim the same state entry.
func (cfg *Config) checkRunbookResources() hcl.Diagnostics {
	var diags hcl.Diagnostics
	names := make([]string, 0, len(cfg.Runbooks))
	for n := range cfg.Runbooks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rb := cfg.Runbooks[n]
		for _, sn := range rb.stepNames() {
			for _, r := range sortedResources(rb.Steps[sn].Resources) {
				if top, ok := cfg.Resources[r.Addr]; ok {
					diags = append(diags, duplicate("resource", r.Addr.String(), top.DeclRange, r.DeclRange))
				}
			}
		}
	}
	return diags
}
