// Package watch is automated failover: it watches the heartbeat host of a
// runbook's trigger and says when the runbook is due. A heartbeat is an
// SSH handshake with the host, its host key verified: a machine that
// answers is up (a refused login too: the machine is there), one that
// does not is a missed beat, and one that answers with another key is an
// alarm that stops the watch, never a reason to take over.
//
// After the trigger's count of missed beats in a row the runbook is due,
// unless the trigger names a witness: then a second opinion comes first.
// The witness, a third machine, tries to reach the heartbeat host's SSH
// port itself (through its own SSH connection); if it does, it is this
// machine that is cut off, and nothing is taken over. A witness that
// cannot be reached gives no opinion, and no takeover either: only a
// witness that reaches nothing at that address lets the runbook run.
//
// It does not print and does not run runbooks: it reports events for the
// CLI to show, and returns when the runbook is due.
package watch
