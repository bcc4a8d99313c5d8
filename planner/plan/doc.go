// Package plan owns the Plan document: the changes a run would make, with
// before and after values, the graph they were planned with, and the
// identity of the state and configuration they were planned against.
//
// It is a leaf: the planner builds plans, the executor applies them, the CLI
// renders and saves them. A saved plan is a versioned, canonically ordered
// JSON document; sensitive values are never written into it. A saved plan
// is sealed with a keyed MAC (Seal, Open) whose key is the workspace's
// plan key file, which this package creates and reads.
package plan
