// Package providers is the contract between Drover's core and the providers
// that do the real work on hosts: one Go interface, Provider, with a request
// and a response type per call and diagnostics carried inside every response.
//
// The contract knows nothing of gRPC or processes. The plugin protocol
// (providers/plugin) carries it between processes, the SDK (providers/sdk)
// helps authors implement it, and the built-in providers live beside it.
// The core must only ever hold a Provider obtained through a Factory, so
// nothing works in-process that would not also work through a plugin.
package providers
