package plugin

import (
	"context"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/providers"
	pb "github.com/drover-dr/drover/providers/proto/v1"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// stopGrace bounds how long an ending plugin waits for its provider to
// stop what it is doing: long enough to finish or undo a file, short
// enough that nothing lingers for minutes.
const stopGrace = 10 * time.Second

// answerGrace bounds how long an ending plugin then waits for Drover to
// take the last answers and close the connection, as go-plugin gives a
// plugin it asks to shut down.
const answerGrace = 2 * time.Second

// inflight counts the provider calls a plugin process is serving, so that
// an ending plugin lets them return first. go-plugin's own services (its
// stdio stream lives as long as the process) are not counted.
type inflight struct {
	mu     sync.Mutex
	srv    *grpc.Server // set by server
	n      int
	ending bool
	idle   chan struct{} // made by end, closed once n is 0
}

// begin counts a call in, unless the plugin is ending.
func (f *inflight) begin() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ending {
		return false
	}
	f.n++
	return true
}

func (f *inflight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.ending && f.n == 0 {
		close(f.idle)
	}
}

// end refuses new calls and returns a channel closed once none is left,
// and the server, if made yet.
func (f *inflight) end() (<-chan struct{}, *grpc.Server) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ending {
		f.ending = true
		f.idle = make(chan struct{})
		if f.n == 0 {
			close(f.idle)
		}
	}
	return f.idle, f.srv
}

var providerMethods = "/" + pb.Provider_ServiceDesc.ServiceName + "/"

// track runs a call of method counted in. An Invocations stream lives as
// long as Drover's connection: each invocation on it is counted instead.
func (f *inflight) track(method string, call func() error) error {
	if !strings.HasPrefix(method, providerMethods) || method == pb.Provider_Invocations_FullMethodName {
		return call()
	}
	if !f.begin() {
		return status.Error(codes.Unavailable, "the provider process is ending")
	}
	defer f.done()
	return call()
}

// streamWorkers is how many goroutines serve the plugin's RPCs, each
// keeping the stack it grew: a goroutine started per RPC grows its stack
// anew each time, about a tenth of the CPU of a call's round trip, both
// processes counted, when each call was an RPC (BenchmarkRoundTrip), and
// still a twentieth of batched Plans and Applies. Enough for the batches
// in flight and an Invocations stream per connection; beyond them an RPC
// gets a goroutine of its own, as without workers.
const streamWorkers = 32

// server is go-plugin's GRPCServer: a gRPC server that counts the
// provider calls in f.
func (f *inflight) server(opts []grpc.ServerOption) *grpc.Server {
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		err = f.track(info.FullMethod, func() error {
			resp, err = handler(ctx, req)
			return err
		})
		return resp, err
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return f.track(info.FullMethod, func() error { return handler(srv, ss) })
	}
	srv := grpc.NewServer(append(opts, grpc.NumStreamWorkers(streamWorkers), grpc.ChainUnaryInterceptor(unary), grpc.ChainStreamInterceptor(stream))...)
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	return srv
}

// end ends the plugin process: it asks p to stop what it is doing, lets
// the calls in flight return within stopGrace, lets their answers reach
// Drover within answerGrace, and exits. Drover's process gone or asking
// with SIGTERM, there is no one to ask for more, and an operation left
// running would only be killed half-way later.
func end(p providers.Provider, calls *inflight, logger hclog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), stopGrace)
	defer cancel()
	idle, srv := calls.end()
	p.Stop(ctx, providers.StopRequest{})
	select {
	case <-idle:
	case <-ctx.Done():
		logger.Error("provider calls still running when the plugin had to end", "grace", stopGrace)
		os.Exit(1)
	}
	// A graceful stop sends what the calls answered before closing each
	// connection; a connection Drover keeps (go-plugin's stdio stream)
	// holds it until answerGrace.
	stopped := make(chan struct{})
	go func() {
		if srv != nil {
			srv.GracefulStop()
		}
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(answerGrace):
	}
	os.Exit(0)
}
