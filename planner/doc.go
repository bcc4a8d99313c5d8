// Package planner turns a configuration and a prior state into a Plan: it
// builds the dependency graph of variables, locals, hosts, resources and
// outputs from their references, refreshes every resource instance through
// its provider, evaluates configuration through one lang.Scope, and asks
// each provider to plan its change.
//
// Before refreshing, it gives the objects the configuration's moved blocks
// name their new addresses, in a copy of the prior state; the plan lists
// the moves for the executor to record. --target narrows the run to
// resources or instances (targets.go).
//
// With Options.Runbook it plans a runbook run instead (runbook.go): the
// configuration evaluated over the refreshed state, each step's provider
// action and arguments, the instances it waits for and its wave (its depth
// in the graph of instances), the steps an unfinished run finished
// skipped, what a failback gives back, and the budgets (budget.go). A
// drill's plan (drill.go) is the runbook as its drill block shapes it,
// every step pointed at clones of what it would write, the clones as
// drill.Plan would make them: it only reads what it clones. With isolate =
// true, step resources are pointed at the drill's own place
// (drill_isolate.go): its folder, its network namespaces (production's
// interfaces only read), the DNS and Samba servers its overrides name.
//
// The planner reads state and never writes it. The executor calls back into
// it (Finalizer) to re-evaluate a change whose configuration held values
// only known after apply, so that the executor never reads HCL itself.
// Before a saved plan is applied, CheckSaved re-derives from the
// configuration what it decides (hosts, providers, value types) and refuses
// a plan that differs.
package planner
