// Package state owns what Drover knows about the real world between runs:
// the State document (format version, lineage, serial, resource instances
// with their attributes, dependencies and status, and the runbook runs in
// progress or in force with what they hold), its canonical JSON form,
// and the backends that store it with a lock and a journal.
//
// State is a leaf: the planner reads it and never writes it; the executor
// changes it only through State's methods and a backend's Journal. A State
// is not safe for concurrent use; the executor serialises changes.
package state
