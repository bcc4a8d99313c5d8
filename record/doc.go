// Package record owns the run record: the versioned JSON document that one
// runbook run (a failover, a failback, a drill) leaves behind, and the
// folder that keeps it with the full output of its steps.
//
// A record is written while its run goes on: created before the first
// step starts, saved after each step changes (atomically: a reader sees
// the previous version or the next, never a part; an Encoder re-encodes
// only the steps that changed since the last version), and closed with
// the measured RTO and RPO. Step output is stamped line by line with the time
// and the stream it came from, kept in full, and compressed when large.
//
// The runbook engine writes records; the report package renders them;
// nothing else writes them. Records are never pruned here: what a run did
// is evidence, and deleting it is the user's decision.
package record
