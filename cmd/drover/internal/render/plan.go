package render

import (
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/aymanbagabas/go-udiff/lcs"
	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/internal/escape"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/zclconf/go-cty/cty"
)

// Options shapes rendering.
type Options struct {
	// Color adds ANSI colours: green +, yellow ~, red -, cyan <=.
	Color bool
}

type printer struct {
	w    *strings.Builder
	opts Options
}

func (p *printer) color(code, s string) string {
	if !p.opts.Color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p *printer) sym(a plan.Action) string {
	s := a.String()
	switch a {
	case plan.Create:
		return p.color("32", s)
	case plan.Update:
		return p.color("33", s)
	case plan.Delete:
		return p.color("31", s)
	case plan.Read:
		return p.color("36", s)
	case plan.DeleteThenCreate, plan.CreateThenDelete:
		return p.color("31", s[:1]) + "/" + p.color("32", s[2:])
	}
	return s
}

// Plan writes the human rendering of a plan.
func Plan(w io.Writer, pl *plan.Plan, opts Options) error {
	p := &printer{w: &strings.Builder{}, opts: opts}
	if len(pl.Drift) > 0 {
		p.w.WriteString("\n" + p.color("1", "Note: Objects have changed outside of Drover") + "\n\n")
		p.w.WriteString("Drover found these changes made outside of Drover since the last apply:\n\n")
		p.changes(pl.Drift, true)
	}
	if pl.Mode == plan.RefreshOnly {
		if len(pl.Drift) == 0 {
			p.w.WriteString("\nNo changes. The state matches the real objects.\n")
		} else {
			p.w.WriteString("Applying this refresh-only plan records these changes in the state; nothing else is changed.\n")
		}
		_, err := io.WriteString(w, p.w.String())
		return err
	}
	if !pl.HasChanges() {
		why := " Your infrastructure matches the configuration."
		if pl.Mode == plan.Destroy {
			why = " No objects need to be destroyed."
		}
		p.w.WriteString("\n" + p.color("1", "No changes.") + why + "\n")
		_, err := io.WriteString(w, p.w.String())
		return err
	}
	p.w.WriteString("\nDrover will perform the following actions:\n\n")
	shown := make([]*plan.Change, 0, len(pl.Changes))
	for _, c := range pl.Changes {
		if c.Action != plan.NoOp || c.MovedFrom != nil || c.ImportID != "" {
			shown = append(shown, c)
		}
	}
	p.changes(shown, false)
	for _, f := range pl.Forgotten {
		fmt.Fprintf(p.w, "  %s\n  # (a removed block: Drover stops managing it and leaves it as it is)\n\n", p.color("1", "# "+f.String()+" will be forgotten"))
	}
	p.w.WriteString(p.color("1", Summary(pl)) + "\n")
	p.outputs(pl.Outputs)
	_, err := io.WriteString(w, p.w.String())
	return err
}

// Summary is the plan's one-line tally.
func Summary(pl *plan.Plan) string {
	c := pl.Counts()
	s := fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy.", c.Add, c.Change, c.Destroy)
	if c.Import > 0 {
		s = fmt.Sprintf("Plan: %d to import, %d to add, %d to change, %d to destroy.", c.Import, c.Add, c.Change, c.Destroy)
	}
	if c.Read > 0 {
		s += fmt.Sprintf(" %d to read during apply.", c.Read)
	}
	if c.Forget > 0 {
		s += fmt.Sprintf(" %d to forget.", c.Forget)
	}
	return s
}

// renderPiece is how many changes one goroutine renders: a plan of
// thousands of changes is rendered on every processor, in pieces written
// out in order.
const renderPiece = 512

func (p *printer) changes(cs []*plan.Change, drift bool) {
	if len(cs) <= renderPiece {
		for _, c := range cs {
			p.change(c, drift)
		}
		return
	}
	parts := make([]strings.Builder, (len(cs)+renderPiece-1)/renderPiece)
	workers := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range parts {
		workers <- struct{}{}
		wg.Go(func() {
			defer func() { <-workers }()
			q := &printer{w: &parts[i], opts: p.opts}
			for _, c := range cs[i*renderPiece : min(len(cs), (i+1)*renderPiece)] {
				q.change(c, drift)
			}
		})
	}
	wg.Wait()
	n := 0
	for i := range parts {
		n += parts[i].Len()
	}
	p.w.Grow(n)
	for i := range parts {
		p.w.WriteString(parts[i].String())
	}
}

var headers = map[plan.Action]string{
	plan.Create: "will be created", plan.Update: "will be updated in place", plan.Delete: "will be destroyed",
	plan.DeleteThenCreate: "must be replaced", plan.CreateThenDelete: "must be replaced", plan.Read: "will be read during apply",
}

func (p *printer) change(c *plan.Change, drift bool) {
	switch {
	case c.Action == plan.NoOp && c.ImportID != "":
		fmt.Fprintf(p.w, "  %s\n  # (found by %q)\n\n", p.color("1", "# "+c.Addr.String()+" will be imported"), c.ImportID)
		return
	case c.Action == plan.NoOp && c.MovedFrom != nil:
		fmt.Fprintf(p.w, "  %s\n\n", p.color("1", "# "+c.MovedFrom.String()+" has moved to "+c.Addr.String()))
		return
	}
	header := headers[c.Action]
	if drift {
		header = "has changed"
		if c.Action == plan.Delete {
			header = "has been deleted"
		}
	}
	fmt.Fprintf(p.w, "  %s %s\n", p.color("1", "# "+c.Addr.String()), p.color("1", header))
	if c.MovedFrom != nil && !drift {
		fmt.Fprintf(p.w, "  # (moved from %s)\n", c.MovedFrom)
	}
	if c.ImportID != "" && !drift {
		fmt.Fprintf(p.w, "  # (imported first, found by %q)\n", c.ImportID)
	}
	if c.Reason != plan.ReasonNone {
		fmt.Fprintf(p.w, "  # (because %s)\n", c.Reason)
	}
	if c.Action == plan.CreateThenDelete {
		p.w.WriteString("  # (the new object is created before the old one is destroyed)\n")
	}
	if c.Description != "" {
		// A description's first line is its summary; the lines after it
		// (an itemised list) follow indented. A provider escapes the names
		// it lists; whatever it left would act on the terminal.
		first, rest, _ := strings.Cut(escape.Text(c.Description), "\n")
		fmt.Fprintf(p.w, "  # (%s)\n", first)
		if rest != "" {
			for _, line := range strings.Split(rest, "\n") {
				fmt.Fprintf(p.w, "  #   %s\n", line)
			}
		}
	}
	kind := "resource"
	if c.Addr.Mode == addrs.Data {
		kind = "data"
	}
	action := c.Action
	if drift {
		action = plan.Update
		if c.Action == plan.Delete {
			action = plan.Delete
		}
	}
	fmt.Fprintf(p.w, "  %s %s %q %q {\n", p.sym(action), kind, c.Addr.Type, c.Addr.Name)
	d := differ{p: p, sensitive: c.SensitivePaths, replace: c.RequiresReplace}
	d.object(c.Before, c.After, nil, 2, action)
	p.w.WriteString("    }\n\n")
}

// differ writes the attribute-level difference of one change.
type differ struct {
	p         *printer
	sensitive []cty.Path
	replace   []cty.Path
}

func (d *differ) hidden(path cty.Path) bool {
	for _, s := range d.sensitive {
		if len(s) <= len(path) && path[:len(s)].Equals(s) {
			return true
		}
	}
	return false
}

func (d *differ) forces(path cty.Path) string {
	for _, r := range d.replace {
		if r.Equals(path) {
			return d.p.color("31", " # forces replacement")
		}
	}
	return ""
}

// attrOf is an object's attribute or a map's element called name, or
// cty.NilVal.
func attrOf(v cty.Value, name string) cty.Value {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() {
		return cty.NilVal
	}
	switch ty := v.Type(); {
	case ty.IsObjectType() && ty.HasAttribute(name):
		return v.GetAttr(name)
	case ty.IsMapType() && v.HasIndex(cty.StringVal(name)).True():
		return v.Index(cty.StringVal(name))
	}
	return cty.NilVal
}

func absent(v cty.Value) bool { return v == cty.NilVal || (v.IsKnown() && v.IsNull()) }

// object writes the attributes of before → after at indent, for a change
// of the given action; of two maps, their elements.
func (d *differ) object(before, after cty.Value, path cty.Path, indent int, action plan.Action) {
	names := map[string]bool{}
	isMap := false
	for _, v := range []cty.Value{before, after} {
		switch {
		case v == cty.NilVal:
		case v.Type().IsObjectType():
			for n := range v.Type().AttributeTypes() {
				names[n] = true
			}
		case v.Type().IsMapType() && v.IsKnown() && !v.IsNull():
			isMap = true
			for n := range v.AsValueMap() {
				names[n] = true
			}
		}
	}
	keys := make([]string, 0, len(names))
	for n := range names {
		keys = append(keys, n)
	}
	sort.Strings(keys)
	width := 0
	for _, k := range keys {
		width = max(width, len(key(k)))
	}
	pad := strings.Repeat("  ", indent+1)
	unchanged := 0
	for _, name := range keys {
		b, a := attrOf(before, name), attrOf(after, name)
		var ap cty.Path
		if isMap {
			ap = append(path.Copy(), cty.IndexStep{Key: cty.StringVal(name)})
		} else {
			ap = append(path.Copy(), cty.GetAttrStep{Name: name})
		}
		sym := ""
		switch {
		case absent(b) && absent(a):
			continue
		case action == plan.Delete || absent(a):
			sym = d.p.sym(plan.Delete)
		case absent(b):
			sym = d.p.sym(plan.Create)
		case a.IsKnown() && a.RawEquals(b):
			if name != "id" || isMap || action == plan.Create {
				unchanged++
				continue
			}
			sym = " "
		default:
			sym = d.p.sym(plan.Update)
		}
		fmt.Fprintf(d.p.w, "%s%s %-*s = %s%s\n", pad, sym, width, key(name), d.pair(b, a, ap, indent+1, action), d.forces(ap))
	}
	if unchanged > 0 {
		noun := "attribute"
		if isMap {
			noun = "element"
		}
		if unchanged > 1 {
			noun += "s"
		}
		fmt.Fprintf(d.p.w, "%s  # (%d unchanged %s hidden)\n", pad, unchanged, noun)
	}
}

// pair renders one attribute's value or its change.
func (d *differ) pair(b, a cty.Value, path cty.Path, indent int, action plan.Action) string {
	// The attribute's marker sits at column 2*indent; what nests inside
	// its value is indented two columns past the marker.
	one := func(v cty.Value) string {
		var sb strings.Builder
		writeValue(&sb, v, indent+1, path, d.hidden)
		return sb.String()
	}
	switch {
	case action == plan.Delete || absent(a):
		return one(b) + d.p.color("2", " -> null")
	case absent(b) || a.RawEquals(b):
		return one(a)
	case !d.hidden(path) && a.IsKnown() && b.Type() == cty.String && a.Type() == cty.String && multiline(b, a):
		return d.lines(b.AsString(), a.AsString(), indent+1)
	case !d.hidden(path) && a.IsKnown() && b.IsKnown() && (a.Type().IsObjectType() && b.Type().IsObjectType() || a.Type().IsMapType() && b.Type().IsMapType()):
		var sb strings.Builder
		sub := &differ{p: &printer{w: &sb, opts: d.p.opts}, sensitive: d.sensitive, replace: d.replace}
		sub.object(b, a, path, indent+1, plan.Update)
		return "{\n" + sb.String() + strings.Repeat("  ", indent+1) + "}"
	case d.hidden(path):
		return "(sensitive value)"
	case a.IsKnown() && b.IsKnown() && !a.IsNull() && !b.IsNull() && sequence(a.Type()) && sequence(b.Type()):
		return d.elements(b, a, path, indent+1)
	}
	return one(b) + " -> " + one(a)
}

func (p *printer) outputs(outs []*plan.OutputChange) {
	var changed []*plan.OutputChange
	for _, o := range outs {
		if o.Action != plan.NoOp {
			changed = append(changed, o)
		}
	}
	if len(changed) == 0 {
		return
	}
	p.w.WriteString("\nChanges to Outputs:\n")
	d := &differ{p: p}
	for _, o := range changed {
		val := "(sensitive value)"
		if !o.Sensitive {
			val = d.pair(o.Before, o.After, nil, 1, o.Action)
		}
		fmt.Fprintf(p.w, "  %s %s = %s\n", p.sym(o.Action), o.Name, val)
	}
}

func sequence(ty cty.Type) bool {
	return ty.IsListType() || ty.IsTupleType() || ty.IsSetType()
}

func multiline(vs ...cty.Value) bool {
	for _, v := range vs {
		if v.IsNull() || !v.IsKnown() || !strings.Contains(strings.TrimSuffix(v.AsString(), "\n"), "\n") {
			return false
		}
	}
	return true
}

// contextItems is how many unchanged lines of a multi-line string, or
// elements of a list or set, are shown on each side of a changed stretch;
// the rest are counted.
const contextItems = 3

// lines renders a change of a multi-line string as a heredoc with a
// marker on each line: - removed, + added, blank kept.
func (d *differ) lines(before, after string, indent int) string {
	a := strings.Split(strings.TrimSuffix(before, "\n"), "\n")
	b := strings.Split(strings.TrimSuffix(after, "\n"), "\n")
	return d.items(a, b, indent, "<<-EOT", "", "EOT", "lines")
}

// elements renders a change of a list, tuple or set element by element.
func (d *differ) elements(before, after cty.Value, path cty.Path, indent int) string {
	render := func(v cty.Value) []string {
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			var sb strings.Builder
			writeValue(&sb, e, indent+1, append(path.Copy(), cty.IndexStep{Key: k}), d.hidden)
			out = append(out, sb.String())
		}
		return out
	}
	return d.items(render(before), render(after), indent, "[", ",", "]", "elements")
}

// items renders the change from a to b between the lines open and close,
// an item a line with a marker: - removed, + added, blank kept. Unchanged
// items farther than contextItems from a change are hidden and counted.
func (d *differ) items(a, b []string, indent int, open, suffix, close, noun string) string {
	pad := strings.Repeat("  ", indent)
	var sb strings.Builder
	sb.WriteString(open + "\n")
	mark := func(sym string, items []string) {
		for _, it := range items {
			sb.WriteString(pad + sym + " " + it + suffix + "\n")
		}
	}
	// keep shows the unchanged items between two changes (or the start
	// or end, where follows or precedes is false).
	keep := func(items []string, follows, precedes bool) {
		head, tail := 0, 0
		if follows {
			head = contextItems
		}
		if precedes {
			tail = contextItems
		}
		if len(items) <= head+tail+1 {
			mark(" ", items)
			return
		}
		mark(" ", items[:head])
		fmt.Fprintf(&sb, "%s  # (%d unchanged %s hidden)\n", pad, len(items)-head-tail, noun)
		mark(" ", items[len(items)-tail:])
	}
	kept, changed := 0, false
	for _, e := range lcs.DiffLines(a, b) {
		keep(a[kept:e.Start], changed, true)
		mark(d.p.sym(plan.Delete), a[e.Start:e.End])
		mark(d.p.sym(plan.Create), b[e.ReplStart:e.ReplEnd])
		kept, changed = e.End, true
	}
	keep(a[kept:], changed, false)
	sb.WriteString(pad + close)
	return sb.String()
}
