// Package executor applies a Plan: it walks the plan's dependency graph in
// parallel, calls each provider's Apply, and records every change in the
// state backend's journal before and after it runs, so an apply killed at
// any moment resumes where it stopped.
//
// It reports through Hooks and never prints. It never reads HCL: values
// known only after apply are resolved by the planner's Finalizer.
package executor
