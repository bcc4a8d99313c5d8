// Package plugin carries the provider contract (providers.Provider) between
// processes: a gRPC server adapter that serves a Provider in a plugin
// process, a client adapter that stands in for it in Drover's process, and
// the go-plugin glue (handshake cookie, mutual TLS, protocol version
// negotiation, and a spare process of the plugin's program taking the
// plugin's place: package spare). The .proto in providers/proto/v1 is the specification.
//
// Concurrent Read, Plan and Apply calls travel in batches; Invokes travel
// on one stream kept open per connection (Invocations), a message each
// way per call. A call whose context ends is ended alone on the provider
// side, by a message on its batch's or invocations' stream: Stop would
// end every call in flight there.
//
// The client never panics on a misbehaving provider: a crash, a hang past
// the caller's deadline or an undecodable answer becomes an error
// diagnostic naming the provider and the call. The plugin's stderr goes to
// the logger handed to Factory, never to the user's terminal.
//
// A plugin process never outlives Drover's (package lifeline): it ends on
// SIGTERM or when Drover's process is gone, refusing new calls and giving
// its provider's Stop and the calls in flight a bounded time first.
package plugin
