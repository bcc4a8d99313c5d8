// Package continuous keeps a mirror current: it watches every source of a
// mirror.Mirror (host.Host.Watch: recursive, folders made later included),
// coalesces bursts of changes, and sends each burst through PlanPaths and
// Apply within about a second; an overflow of events, and a periodic
// rescan, compare everything. It reports the lag (the age of the oldest
// change not yet on the target) as it runs and its percentiles at the end.
//
// Stopping is by ending the context: the round in flight stops with every
// target file whole, old or new. A source that vanishes stops the run (the
// mirror refuses to treat it as emptied).
//
// It knows nothing of providers or configuration.
package continuous
