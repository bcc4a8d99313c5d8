// Package executor applies a Plan: it walks the plan's dependency graph in
// parallel, calls each provider's Apply, and records every change in the
// state backend's journal before and after it runs, so an apply killed at
// any moment resumes where it stopped.
//
// A runbook plan is run the same way (runbook.go): its steps are walked
// with the same graph walker, each recorded in the same journal before it
// acts and after, its provider actions invoked through the same registry,
// and its step resources applied by Apply itself. The run's record is
// written as the run goes on.
//
// A drill (drill.go) wraps such a run: production fingerprinted, the
// plan's clones and network namespaces made through the drill package's
// inventory, the steps run without the state's journal (a drill is never
// in force) but with one of the run's own (drill_held.go) of what their
// resources hold, which are given back after, then the teardown, its
// proof, the fingerprints compared and the cleanup hooks.
//
// It reports through Hooks and never prints. It never reads HCL: values
// known only after apply are resolved by the planner's Finalizer.
package executor
