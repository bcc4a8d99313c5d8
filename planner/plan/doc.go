// Package plan owns the Plan document: the changes a run would make, with
// before and after values, the graph they were planned with, and the
// identity of the state and configuration they were planned against.
//
// It is a leaf: the planner builds plans, the executor applies them, the CLI
// renders and saves them. A saved plan is a versioned, canonically ordered
// JSON document; sensitive values are never written into it.
package plan
