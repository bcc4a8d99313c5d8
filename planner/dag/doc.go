// Package dag owns the one directed graph Drover walks: the planner's
// configuration graph and the executor's apply graph. Edges point from a
// node to what it depends on; a walk runs each node after its dependencies,
// in parallel, skipping what depends on a failure and reporting each
// failure once, at its origin.
//
// A Graph is built by one goroutine and then only read; Walk may run on it
// while nothing changes it. Everything the graph reports (DependsOn,
// Cycles, DOT) is in a stable order: the order of insertion, or sorted
// by name for DOT, so messages and golden files do not change between runs.
//
// The walker has no scheduler goroutine and no goroutine per node: a
// goroutine lives only while it runs nodes, taking the next ready one
// itself when it finishes, so the walk costs well under a microsecond per
// node whatever its shape. Cancelling the context stops new starts; Walk
// returns only once the running nodes have returned (fn sees the cancelled
// context and decides whether to cut its work short).
//
// The package knows nothing of addresses, providers or diagnostics: the
// caller turns NodeErrors and cycles into its own messages.
package dag
