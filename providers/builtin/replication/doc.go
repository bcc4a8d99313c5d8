// Package replication is the built-in provider "replication": resource
// replication_set, folders mirrored to a standby, and the actions behind
// `drover replicate` (continuous mirroring) and `drover verify`.
//
// A set's state records how far the target is behind (pending entries and
// bytes, the time of the oldest pending change) as of the last refresh,
// when the last mirror finished, and the identity of each source folder
// then (the marker mirror.MarkSources keeps in it), which later runs hold
// the source to. Plan walks both sides only when the
// set is not known to be in sync, and describes the itemised dry run;
// apply mirrors. Refresh, plan and apply of one run share one guarded walk
// while it is current (cache.go). Destroying a set leaves the replica on
// the target. The provider's own configuration, allow_mass_delete, lets
// every set through its guards against replaced sources and mass
// deletions; `--allow-mass-delete` sets it for one run.
//
// The work itself is package mirror's (walk, compare, copy) and package
// continuous's (watch and follow); this package turns configuration into
// their options and their results into state and diagnostics.
package replication
