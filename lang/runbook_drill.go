package lang

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The drill block of a runbook says what changes when the runbook runs as
// a drill: arguments of its steps (override), steps only drills run,
// whether reboots are done, the hooks after the teardown, and how old the
// last successful drill may be.

// DrillResourceArgs are the arguments an override gives the resources of
// a step that holds some, in an isolated drill (the planner reads them):
// the DNS server, zone and key of its DNS records, the Samba configuration
// of its shares, so that a drill acts on a drill's own servers.
var DrillResourceArgs = []string{"server", "zone", "tsig", "smb_conf"}

var (
	drillBlockSchema = &hcl.BodySchema{
		Attributes: attrSchema("isolate", "max_age", "reboot"),
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "cleanup"},
			{Type: "override", LabelNames: []string{"step"}},
			{Type: "step", LabelNames: []string{"name"}},
		},
	}
	cleanupSchema = &hcl.BodySchema{Attributes: append(attrSchema("host", "env", "dir", "timeout"), hcl.AttributeSchema{Name: "run", Required: true})}
	// overrideSchema is a step's arguments but after (the order of the
	// steps is the runbook's) and its resource blocks, and
	// DrillResourceArgs.
	overrideSchema = &hcl.BodySchema{Attributes: attrSchema(append([]string{"host", "timeout", "run", "env", "dir", "retries", "retry_delay", "on_failure",
		"import", "set_default", "set_next", "reboot", "reboot_command", "reboot_probe", "prompt", "wait", "check"}, DrillResourceArgs...)...)}
)

// DrillCleanup is a program a drill runs after its teardown, on host (the
// machine Drover runs on when nil).
type DrillCleanup struct {
	Host, Run, Env, Dir, Timeout hcl.Expression
	DeclRange                    hcl.Range
}

// DrillOverride replaces arguments of one step of the runbook in a drill.
type DrillOverride struct {
	Step      string
	Attrs     hcl.Attributes
	DeclRange hcl.Range
}

func decodeDrill(b *hcl.Block) (*Drill, hcl.Diagnostics) {
	c, diags := bodyContent(b.Body, drillBlockSchema)
	d := &Drill{Isolate: attrExpr(c.Attributes, "isolate"), MaxAge: attrExpr(c.Attributes, "max_age"), Reboot: attrExpr(c.Attributes, "reboot"),
		Steps: map[string]*Step{}, DeclRange: b.DefRange}
	for _, blk := range c.Blocks {
		switch blk.Type {
		case "cleanup":
			cc, dd := bodyContent(blk.Body, cleanupSchema)
			diags = append(diags, dd...)
			a := cc.Attributes
			d.Cleanup = append(d.Cleanup, &DrillCleanup{Host: attrExpr(a, "host"), Run: attrExpr(a, "run"), Env: attrExpr(a, "env"),
				Dir: attrExpr(a, "dir"), Timeout: attrExpr(a, "timeout"), DeclRange: blk.DefRange})
		case "override":
			name, ok := strings.CutPrefix(blk.Labels[0], "step.")
			if !ok || !hclsyntax.ValidIdentifier(name) {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid override label",
					Detail:  fmt.Sprintf("An override names the step whose arguments it replaces, like override \"step.identity\"; %q is not one.", blk.Labels[0]),
					Subject: blk.LabelRanges[0].Ptr()})
				continue
			}
			oc, dd := bodyContent(blk.Body, overrideSchema)
			diags = append(diags, dd...)
			if prev := slices.IndexFunc(d.Overrides, func(o *DrillOverride) bool { return o.Step == name }); prev >= 0 {
				diags = append(diags, duplicate("override", blk.Labels[0], d.Overrides[prev].DeclRange, blk.DefRange))
				continue
			}
			d.Overrides = append(d.Overrides, &DrillOverride{Step: name, Attrs: oc.Attributes, DeclRange: blk.DefRange})
		case "step":
			if !validLabels(blk, &diags) {
				continue
			}
			s, dd := decodeStep(blk)
			diags = append(diags, dd...)
			if prev, ok := d.Steps[s.Name]; ok {
				diags = append(diags, duplicate("step", s.Name, prev.DeclRange, s.DeclRange))
				continue
			}
			d.Steps[s.Name] = s
		}
	}
	return d, diags
}

// checkDrill checks the drill block against the runbook's steps: an
// override names a step of the runbook and sets no action the step does
// not take; a drill-only step is named apart from them; and the runbook
// as drilled has its after lists right and no cycle.
func (rb *Runbook) checkDrill() hcl.Diagnostics {
	d := rb.Drill
	if d == nil {
		return nil
	}
	var diags hcl.Diagnostics
	for _, name := range slices.Sorted(maps.Keys(d.Steps)) {
		if prev := rb.Steps[name]; prev != nil {
			diags = append(diags, duplicate("step", name, prev.DeclRange, d.Steps[name].DeclRange))
		}
	}
	for _, o := range d.Overrides {
		s := rb.Steps[o.Step]
		if s == nil {
			diags = append(diags, rb.undeclaredStep(o.Step, o.DeclRange))
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(o.Attrs)) {
			if slices.Contains(DrillResourceArgs, name) && len(s.Resources) == 0 {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Override of resources without any",
					Detail:  fmt.Sprintf("Step %q holds no resources: %s is for the DNS records and shares of a step that holds some, in a drill with isolate = true. Remove it.", o.Step, name),
					Subject: o.Attrs[name].NameRange.Ptr()})
				continue
			}
			if slices.Contains(stepActions, name) && *s.field(name) == nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Override changes the step's action",
					Detail:  fmt.Sprintf("Step %q does not set %s: an override replaces the arguments of what the step does, never what it does. Add a drill-only step (a step block in the drill block) instead.", o.Step, name),
					Subject: o.Attrs[name].NameRange.Ptr()})
			}
		}
	}
	if diags.HasErrors() || len(d.Steps) == 0 {
		return diags
	}
	// The runbook's own steps cannot wait for drill-only ones (its own
	// check says so), so a cycle, if any, is among the drill's steps.
	dr := rb.ForDrill()
	for _, name := range slices.Sorted(maps.Keys(d.Steps)) {
		for _, ref := range d.Steps[name].After {
			diags = append(diags, dr.checkStepRef(ref)...)
		}
	}
	only := &Runbook{Name: rb.Name, Steps: d.Steps}
	return append(diags, only.checkCycles()...)
}

// drillArgs lists the drill block's arguments: its own, its cleanup
// hooks', the arguments its overrides set, and its steps'.
func (rb *Runbook) drillArgs() []runbookArg {
	d := rb.Drill
	out := []runbookArg{{"isolate", fmt.Sprintf("runbook %q", rb.Name), d.Isolate, argBool}}
	in := fmt.Sprintf("the drill of runbook %q", rb.Name)
	out = append(out, runbookArg{"max_age", in, d.MaxAge, argAge}, runbookArg{"reboot", in, d.Reboot, argBool})
	for _, c := range d.Cleanup {
		at := "a cleanup block of " + in
		out = append(out, runbookArg{"host", at, c.Host, argHost}, runbookArg{"run", at, c.Run, argArgv}, runbookArg{"env", at, c.Env, argEnv},
			runbookArg{"dir", at, c.Dir, argText}, runbookArg{"timeout", at, c.Timeout, argDuration})
	}
	for _, o := range d.Overrides {
		at := fmt.Sprintf("override %q of %s", "step."+o.Step, in)
		for _, a := range stepArgs(&Step{}, at) {
			if attr := o.Attrs[a.name]; attr != nil {
				a.expr = attr.Expr
				out = append(out, a)
			}
		}
		for _, name := range []string{"server", "zone", "smb_conf"} {
			if attr := o.Attrs[name]; attr != nil {
				out = append(out, runbookArg{name, at, attr.Expr, argText})
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.Steps)) {
		out = append(out, stepArgs(d.Steps[name], fmt.Sprintf("step %q of %s", name, in))...)
	}
	return out
}

// ForDrill is the runbook as a drill runs it: its steps with the drill's
// overrides applied, and the drill's own steps. rb is not changed.
func (rb *Runbook) ForDrill() *Runbook {
	d := rb.Drill
	if d == nil {
		return rb
	}
	out := *rb
	out.Steps = maps.Clone(rb.Steps)
	for _, o := range d.Overrides {
		s := out.Steps[o.Step]
		if s == nil {
			continue
		}
		c := *s
		for name, a := range o.Attrs {
			if f := c.field(name); f != nil {
				*f = a.Expr
			}
		}
		out.Steps[o.Step] = &c
	}
	maps.Copy(out.Steps, d.Steps)
	return &out
}

// field is the step's argument called name, one of overrideSchema's.
func (s *Step) field(name string) *hcl.Expression {
	return map[string]*hcl.Expression{
		"host": &s.Host, "timeout": &s.Timeout, "run": &s.Run, "env": &s.Env, "dir": &s.Dir, "retries": &s.Retries,
		"retry_delay": &s.RetryDelay, "on_failure": &s.OnFailure, "import": &s.Import, "set_default": &s.SetDefault,
		"set_next": &s.SetNext, "reboot": &s.Reboot, "reboot_command": &s.RebootCommand, "reboot_probe": &s.RebootProbe,
		"prompt": &s.Prompt, "wait": &s.Wait, "check": &s.Check,
	}[name]
}

// ParseAge reads an age such as max_age: a Go duration ("36h", "90m"), or
// a whole number of days ("30d"). It must be positive.
func ParseAge(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err == nil && d <= 0 {
		err = fmt.Errorf("%q is not positive", s)
	}
	return d, err
}
