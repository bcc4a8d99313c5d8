package report

import (
	"fmt"

	"github.com/drover-dr/drover/record"
)

// drillVerdicts say, a line each, what a drill proved: where the steps
// acted, that the teardown left nothing, that production did not change.
func drillVerdicts(d *record.DrillRun) []string {
	var out []string
	switch {
	case d.Kept:
		out = append(out, "kept up: not torn down yet (drover drill cleanup ends it)")
	case d.TornDown && len(d.Leaks) == 0:
		out = append(out, fmt.Sprintf("torn down: %d objects made, nothing left", len(d.Inventory)))
	case len(d.Leaks) > 0:
		out = append(out, fmt.Sprintf("LEFT BEHIND after the teardown: %d objects", len(d.Leaks)))
	default:
		out = append(out, "teardown not finished (drover drill cleanup finishes it)")
	}
	switch {
	case d.Kept || d.Fingerprinted == 0:
	case len(d.Changes) == 0:
		out = append(out, fmt.Sprintf("production unchanged: %d objects fingerprinted before and after", d.Fingerprinted))
	default:
		out = append(out, fmt.Sprintf("production CHANGED: %d differences", len(d.Changes)))
	}
	return out
}

// drill writes the drill's evidence: its clones, reboots not done,
// verdicts, leaks and changes.
func (p *textPrinter) drill() {
	d := p.r.Drill
	if d == nil {
		return
	}
	p.printf("\nDrill (its steps acted on clones in %s)\n", printable(d.Folder))
	for _, c := range d.Clones {
		p.printf("  clone  %s:%s -> %s (%s)\n", printable(c.Host), printable(c.Source), printable(c.Path), c.Method)
		if c.Warning != "" {
			p.printf("         warning: %s\n", printable(c.Warning))
		}
	}
	for _, s := range d.Reboots {
		p.printf("  reboot of step %s recorded, not done\n", printable(s))
	}
	for _, v := range drillVerdicts(d) {
		p.printf("  %s\n", v)
	}
	for _, o := range d.Inventory {
		p.printf("  made   %s\n", printable(o))
	}
	for _, l := range d.Leaks {
		p.printf("  left   %s\n", printable(l))
	}
	for _, c := range d.Changes {
		p.printf("  changed %s\n", printable(c))
	}
	for _, h := range d.Cleanup {
		p.printf("  after the teardown, %s %s: %s\n", printable(h.Name), p.status(h.Status), printable(h.Summary))
		if h.Error != "" {
			p.printf("%s\n", indent(printable(h.Error), "    "))
		}
	}
}
