// Package dag owns the one directed graph Drover walks: the planner's
// configuration graph and the executor's apply graph. Edges point from a
// node to what it depends on; a walk runs each node after its dependencies,
// in parallel, skipping what depends on a failure and reporting each
// failure once, at its origin.
//
// A Graph is built by one goroutine and then only read; Walk may run on it
// while nothing changes it.
package dag
