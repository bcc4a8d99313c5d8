package render

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/escape"
	"github.com/drover-dr/drover/planner/plan"
)

// drill writes what a drill adds to a runbook plan: the clones, each
// with the method drill.Plan answered and why, and the teardown, in the
// order it will go.
func (p *printer) drill(b *strings.Builder, d *plan.Drill) {
	b.WriteString("\n  drill clones (production is only read):\n")
	var hosts []string
	for _, c := range d.Clones {
		fmt.Fprintf(b, "    %s %s:%s -> %s\n", p.color("32", "+"), escape.Text(c.Host), escape.Text(c.Source), escape.Text(c.Path))
		fmt.Fprintf(b, "        %s: %s; for %s\n", c.Method, escape.Text(c.Why), strings.Join(c.For, ", "))
		if c.Warning != "" {
			fmt.Fprintf(b, "        %s %s\n", p.color("33", "warning:"), escape.Text(c.Warning))
		}
		if !slices.Contains(hosts, c.Host) {
			hosts = append(hosts, c.Host)
		}
	}
	if len(d.Clones) == 0 {
		b.WriteString("    none: no step acts on a protected object\n")
	}
	if len(d.Namespaces) > 0 {
		b.WriteString("\n  drill network namespaces (production's network is only read):\n")
		for _, ns := range d.Namespaces {
			fmt.Fprintf(b, "    %s %s, standing in for %s's network; for %s\n", p.color("32", "+"), escape.Text(ns.Name), escape.Text(ns.Host), strings.Join(ns.For, ", "))
			for _, i := range ns.Interfaces {
				addrs := "no address"
				if len(i.Addresses) > 0 {
					addrs = strings.Join(i.Addresses, ", ") + ", production's"
				}
				fmt.Fprintf(b, "        interface %s (a veth, up): %s\n", escape.Text(i.Name), addrs)
			}
			if ns.UTS {
				fmt.Fprintf(b, "        host name in a UTS namespace of its own, pinned at %s: production's, until a step sets it\n", escape.Text(host.Config{Netns: ns.Name}.UTSPin()))
			}
		}
	}
	if len(d.Guests) > 0 {
		b.WriteString("\n  drill guests (QEMU with no NIC, on the clones of their disks):\n")
		for _, g := range d.Guests {
			fmt.Fprintf(b, "    %s %s on %s, console %s\n", p.color("32", "+"), g.For, escape.Text(g.Host), escape.Text(g.Serial))
		}
	}
	if len(d.Reboots) > 0 {
		fmt.Fprintf(b, "\n  reboots recorded, not done: %s\n", strings.Join(d.Reboots, ", "))
	}
	b.WriteString("\n  teardown, last made first:\n")
	for _, g := range slices.Backward(d.Guests) {
		fmt.Fprintf(b, "    %s QEMU of %s on %s  stop it, proved gone by its pid\n", p.color("31", "-"), g.For, escape.Text(g.Host))
	}
	for _, ns := range slices.Backward(d.Namespaces) {
		if ns.UTS {
			fmt.Fprintf(b, "    %s UTS namespace %s  unmount its pin, remove it\n", p.color("31", "-"), escape.Text(host.Config{Netns: ns.Name}.UTSPin()))
		}
		fmt.Fprintf(b, "    %s network namespace %s  kill what runs in it, delete it with its interfaces and addresses\n", p.color("31", "-"), escape.Text(ns.Name))
	}
	for _, c := range slices.Backward(d.Clones) {
		what := "remove the clone"
		if c.Method == "overlayfs" {
			what = "unmount the overlay and remove its folders"
		}
		fmt.Fprintf(b, "    %s %s:%s  %s\n", p.color("31", "-"), escape.Text(c.Host), escape.Text(c.Path), what)
	}
	for _, h := range slices.Backward(hosts) {
		fmt.Fprintf(b, "    %s %s:%s  remove the drill's folder, with its undo files\n", p.color("31", "-"), escape.Text(h), escape.Text(d.Folder))
	}
	b.WriteString("    then prove nothing of the drill is left, and that every source is unchanged (fingerprints before and after)\n")
	if len(d.Cleanup) > 0 {
		b.WriteString("\n  cleanup hooks, after the teardown:\n")
		for _, s := range d.Cleanup {
			fmt.Fprintf(b, "    %s %s  %s\n", p.color("32", "+"), s.Name, escape.Text(s.Summary))
		}
	}
}

// lastDrill says when the runbook was last drilled successfully.
func lastDrill(rb *plan.Runbook, now time.Time) string {
	if rb.LastDrill.IsZero() {
		return "never"
	}
	return fmt.Sprintf("%s ago (%s)", plan.RoundDuration(now.Sub(rb.LastDrill)), rb.LastDrill.UTC().Format(time.RFC3339))
}
