package planner

import "github.com/drover-dr/drover/addrs"

// forget plans to forget the object at addr, and reports so, when a
// removed block with destroy = false covers it: it leaves the state and
// stays as it is.
func (r *run) forget(addr addrs.Instance) bool {
	if addr.Mode != addrs.Managed {
		return false
	}
	for _, rm := range r.cfg.Removed {
		if rm.From == addr.Resource && !rm.Destroy {
			r.forgotten = append(r.forgotten, addr)
			return true
		}
	}
	return false
}
