package render

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/state"
	"github.com/zclconf/go-cty/cty"
)

// State writes the current state: each object as a resource block, then
// the outputs; sensitive values hidden.
func State(w io.Writer, s *state.State, opts Options) error {
	p := &printer{w: &strings.Builder{}, opts: opts}
	for _, addr := range s.SortedAddrs() {
		inst := s.Instances[addr]
		note := ""
		switch inst.Status {
		case state.Tainted:
			note = " (tainted)"
		case state.Pending:
			note = " (pending: an apply was interrupted; the next plan checks it)"
		}
		fmt.Fprintf(p.w, "%s%s\n", p.color("1", "# "+addr.String()+":"), note)
		kind := "resource"
		if addr.Mode == addrs.Data {
			kind = "data"
		}
		fmt.Fprintf(p.w, "%s %q %q ", kind, addr.Type, addr.Name)
		var sb strings.Builder
		paths := inst.SensitivePaths
		writeValue(&sb, inst.Attrs, 0, nil, func(path cty.Path) bool {
			for _, sp := range paths {
				if len(sp) <= len(path) && path[:len(sp)].Equals(sp) {
					return true
				}
			}
			return false
		})
		p.w.WriteString(sb.String() + "\n\n")
	}
	if len(s.Outputs) > 0 {
		p.w.WriteString("Outputs:\n\n")
		names := make([]string, 0, len(s.Outputs))
		for n := range s.Outputs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			o := s.Outputs[n]
			val := "(sensitive value)"
			if !o.Sensitive {
				val = Value(o.Value)
			}
			fmt.Fprintf(p.w, "%s = %s\n", n, val)
		}
	}
	_, err := io.WriteString(w, p.w.String())
	return err
}
