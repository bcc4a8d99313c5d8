package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/drover-dr/drover/providers"
	pb "github.com/drover-dr/drover/providers/proto/v1"
	"github.com/hashicorp/go-plugin"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// client is a providers.Provider answered by a plugin process. Read, Plan
// and Apply travel in batches (batcher); the other calls one by one.
type client struct {
	name    string
	rpc     pb.ProviderClient
	process *plugin.Client

	reads   *batcher[*pb.Read_Request, answer[*pb.Read_Response]]
	plans   *batcher[*pb.Plan_Request, answer[*pb.Plan_Response]]
	applies *batcher[applyCall, answer[*pb.Apply_Response]]

	invocations *invocations
}

// answer is one call's response, or the error that kept it from coming.
type answer[T any] struct {
	resp T
	err  error
}

type applyCall struct {
	req      *pb.Apply_Request
	progress func(providers.Progress)
}

func newClient(rpc pb.ProviderClient) *client {
	c := &client{rpc: rpc, invocations: &invocations{rpc: rpc}}
	c.reads = streamedBatcher(func(reqs []*pb.Read_Request) (batchStream[*pb.ReadBatch_Request, *pb.ReadBatch_Result], func(int), error) {
		s, err := c.rpc.ReadBatch(context.Background())
		if err != nil {
			return nil, nil, err
		}
		cancel, err := openBatch(s, &pb.ReadBatch_Request{Calls: reqs}, func(i int32) *pb.ReadBatch_Request { return &pb.ReadBatch_Request{Cancel: []int32{i}} })
		return s, cancel, err
	})
	c.plans = streamedBatcher(func(reqs []*pb.Plan_Request) (batchStream[*pb.PlanBatch_Request, *pb.PlanBatch_Result], func(int), error) {
		s, err := c.rpc.PlanBatch(context.Background())
		if err != nil {
			return nil, nil, err
		}
		cancel, err := openBatch(s, &pb.PlanBatch_Request{Calls: reqs}, func(i int32) *pb.PlanBatch_Request { return &pb.PlanBatch_Request{Cancel: []int32{i}} })
		return s, cancel, err
	})
	c.applies = &batcher[applyCall, answer[*pb.Apply_Response]]{
		fail: func(err error) answer[*pb.Apply_Response] { return answer[*pb.Apply_Response]{err: err} },
		send: func(calls []applyCall, opened func(func(int)), deliver func(int, answer[*pb.Apply_Response])) error {
			reqs := make([]*pb.Apply_Request, len(calls))
			for i, ac := range calls {
				reqs[i] = ac.req
			}
			stream, err := c.rpc.ApplyBatch(context.Background())
			if err != nil {
				return err
			}
			cancel, err := openBatch(stream, &pb.ApplyBatch_Request{Calls: reqs}, func(i int32) *pb.ApplyBatch_Request { return &pb.ApplyBatch_Request{Cancel: []int32{i}} })
			if err != nil {
				return err
			}
			opened(cancel)
			for {
				ev, err := stream.Recv()
				if err != nil {
					return batchEnded(err)
				}
				i := int(ev.Index)
				if i < 0 || i >= len(calls) || ev.Event == nil {
					continue
				}
				switch e := ev.Event.Event.(type) {
				case *pb.Apply_Event_Progress:
					if calls[i].progress != nil && e.Progress != nil {
						calls[i].progress(decodeProgress(e.Progress))
					}
				case *pb.Apply_Event_Result:
					if e.Result == nil {
						deliver(i, answer[*pb.Apply_Response]{err: errors.New("empty result")})
						continue
					}
					deliver(i, answer[*pb.Apply_Response]{resp: e.Result})
				}
			}
		},
	}
	return c
}

// indexed is one answer of a batch stream: the index of its call and the
// response.
type indexed[R any] interface {
	GetIndex() int32
	GetResponse() R
}

// streamedBatcher batches calls whose answers come back whole, one per
// stream message, tagged with the index of their call. open sends the
// calls and returns the stream and the function that cancels one.
func streamedBatcher[Req, Q, R any, Res indexed[R]](open func([]Req) (batchStream[Q, Res], func(int), error)) *batcher[Req, answer[R]] {
	return &batcher[Req, answer[R]]{
		fail: func(err error) answer[R] { return answer[R]{err: err} },
		send: func(reqs []Req, opened func(func(int)), deliver func(int, answer[R])) error {
			stream, cancel, err := open(reqs)
			if err != nil {
				return err
			}
			opened(cancel)
			for {
				r, err := stream.Recv()
				if err != nil {
					return batchEnded(err)
				}
				deliver(int(r.GetIndex()), answer[R]{resp: r.GetResponse()})
			}
		},
	}
}

// batchEnded is the error a batch stream ended with: at a normal end
// (io.EOF) calls still without an answer were left unanswered.
func batchEnded(err error) error {
	if err == io.EOF {
		return errors.New("the provider ended the batch without answering every call")
	}
	return err
}

// failed turns a transport error into a diagnostic that names the provider
// and the call, and says what the user can do.
func (c *client) failed(call string, err error) providers.Diagnostics {
	summary := fmt.Sprintf("Provider %q failed", c.name)
	detail := fmt.Sprintf("The call %s failed: %v.", call, err)
	switch {
	case c.exited(err):
		summary = fmt.Sprintf("Provider %q crashed", c.name)
		detail = fmt.Sprintf("The provider process exited during %s. Changes that finished are kept in state; "+
			"run with DROVER_LOG=debug and DROVER_LOG_PATH=FILE to see what it printed, then plan again.", call)
	case status.Code(err) == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded):
		summary = fmt.Sprintf("Provider %q did not answer in time", c.name)
		detail = fmt.Sprintf("The call %s passed its deadline; Drover asked the provider to stop.", call)
	case status.Code(err) == codes.Canceled || errors.Is(err, context.Canceled):
		summary = fmt.Sprintf("Provider %q call cancelled", c.name)
		detail = fmt.Sprintf("The call %s was cancelled; Drover asked the provider to stop.", call)
	}
	return providers.Diagnostics{{Severity: providers.Error, Summary: summary, Detail: detail}}
}

// exited reports whether the plugin process has ended. A broken connection
// usually means it did; the process is reaped a moment after the socket
// closes, so give it up to a second to show.
func (c *client) exited(err error) bool {
	if c.process == nil {
		return false
	}
	if status.Code(err) != codes.Unavailable {
		return c.process.Exited()
	}
	deadline := time.Now().Add(time.Second)
	for !c.process.Exited() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return c.process.Exited()
}

// garbage is the diagnostic for an answer that cannot be decoded.
func (c *client) garbage(call string, err error) providers.Diagnostics {
	return providers.Diagnostics{{Severity: providers.Error,
		Summary: fmt.Sprintf("Provider %q returned an invalid answer", c.name),
		Detail:  fmt.Sprintf("The answer to %s could not be decoded: %v. This is a bug in the provider.", call, err)}}
}

func (c *client) Schema(ctx context.Context, req providers.SchemaRequest) providers.SchemaResponse {
	r, err := c.rpc.GetSchema(ctx, &pb.GetSchema_Request{})
	if err != nil {
		return providers.SchemaResponse{Diagnostics: c.failed("GetSchema", err)}
	}
	s, err := decodeSchema(r)
	if err != nil {
		return providers.SchemaResponse{Diagnostics: c.garbage("GetSchema", err)}
	}
	return providers.SchemaResponse{Schema: s, Diagnostics: decodeDiags(r.Diagnostics)}
}

func (c *client) Configure(ctx context.Context, req providers.ConfigureRequest) providers.ConfigureResponse {
	cfg, err := encodeValue(req.Config)
	if err != nil {
		return providers.ConfigureResponse{Diagnostics: c.garbage("Configure", err)}
	}
	r, err := c.rpc.Configure(ctx, &pb.Configure_Request{Config: cfg, Parallelism: int64(req.Parallelism)})
	if err != nil {
		return providers.ConfigureResponse{Diagnostics: c.failed("Configure", err)}
	}
	return providers.ConfigureResponse{Diagnostics: decodeDiags(r.Diagnostics)}
}

func (c *client) Validate(ctx context.Context, req providers.ValidateRequest) providers.ValidateResponse {
	cfg, err := encodeValue(req.Config)
	if err != nil {
		return providers.ValidateResponse{Diagnostics: c.garbage("Validate", err)}
	}
	r, err := c.rpc.Validate(ctx, &pb.Validate_Request{Kind: pb.Validate_Kind(req.Kind), TypeName: req.TypeName, Config: cfg})
	if err != nil {
		return providers.ValidateResponse{Diagnostics: c.failed("Validate", err)}
	}
	return providers.ValidateResponse{Diagnostics: decodeDiags(r.Diagnostics)}
}

func (c *client) Read(ctx context.Context, req providers.ReadRequest) providers.ReadResponse {
	call := "Read(" + req.TypeName + ")"
	prior, err := encodeValue(req.Prior)
	if err != nil {
		return providers.ReadResponse{Diagnostics: c.garbage(call, err)}
	}
	a := c.reads.do(ctx, &pb.Read_Request{TypeName: req.TypeName, Prior: prior, Private: req.Private})
	if a.err != nil {
		return providers.ReadResponse{Diagnostics: c.failed(call, a.err)}
	}
	v, err := decodeValue(a.resp.New)
	if err != nil {
		return providers.ReadResponse{Diagnostics: c.garbage(call, err)}
	}
	return providers.ReadResponse{New: v, Private: a.resp.Private, Diagnostics: decodeDiags(a.resp.Diagnostics)}
}

func (c *client) Plan(ctx context.Context, req providers.PlanRequest) providers.PlanResponse {
	call := "Plan(" + req.TypeName + ")"
	// The proposed value is left out: the provider side derives it from
	// prior and config by the schema, which saves a value each way.
	vals, err := encodeValues(req.Prior, req.Config)
	if err != nil {
		return providers.PlanResponse{Diagnostics: c.garbage(call, err)}
	}
	a := c.plans.do(ctx, &pb.Plan_Request{TypeName: req.TypeName, Prior: vals[0], Config: vals[1], PriorPrivate: req.PriorPrivate})
	if a.err != nil {
		return providers.PlanResponse{Diagnostics: c.failed(call, a.err)}
	}
	planned, err := decodeValue(a.resp.Planned)
	if err != nil {
		return providers.PlanResponse{Diagnostics: c.garbage(call, err)}
	}
	return providers.PlanResponse{Planned: planned, RequiresReplace: decodePaths(a.resp.RequiresReplace),
		PlannedPrivate: a.resp.PlannedPrivate, Description: a.resp.Description, Diagnostics: decodeDiags(a.resp.Diagnostics)}
}

func encodeValues(vs ...cty.Value) ([]*pb.DynamicValue, error) {
	out := make([]*pb.DynamicValue, len(vs))
	for i, v := range vs {
		dv, err := encodeValue(v)
		if err != nil {
			return nil, err
		}
		out[i] = dv
	}
	return out, nil
}

func (c *client) Apply(ctx context.Context, req providers.ApplyRequest) providers.ApplyResponse {
	call := "Apply(" + req.TypeName + ")"
	vals, err := encodeValues(req.Prior, req.Planned, req.Config)
	if err != nil {
		return providers.ApplyResponse{Diagnostics: c.garbage(call, err)}
	}
	a := c.applies.do(ctx, applyCall{
		req:      &pb.Apply_Request{TypeName: req.TypeName, Prior: vals[0], Planned: vals[1], Config: vals[2], PlannedPrivate: req.PlannedPrivate},
		progress: req.Progress,
	})
	if a.err != nil {
		return providers.ApplyResponse{Diagnostics: c.failed(call, a.err)}
	}
	v, err := decodeValue(a.resp.New)
	if err != nil {
		return providers.ApplyResponse{Diagnostics: c.garbage(call, err)}
	}
	return providers.ApplyResponse{New: v, Private: a.resp.Private, Diagnostics: decodeDiags(a.resp.Diagnostics)}
}

func (c *client) Import(ctx context.Context, req providers.ImportRequest) providers.ImportResponse {
	call := "Import(" + req.TypeName + ")"
	r, err := c.rpc.Import(ctx, &pb.Import_Request{TypeName: req.TypeName, Id: req.ID})
	if err != nil {
		return providers.ImportResponse{Diagnostics: c.failed(call, err)}
	}
	resp := providers.ImportResponse{Diagnostics: decodeDiags(r.Diagnostics)}
	for _, im := range r.Imported {
		v, err := decodeValue(im.State)
		if err != nil {
			return providers.ImportResponse{Diagnostics: c.garbage(call, err)}
		}
		resp.Imported = append(resp.Imported, providers.ImportedResource{TypeName: im.TypeName, State: v, Private: im.Private})
	}
	return resp
}

func (c *client) ReadData(ctx context.Context, req providers.ReadDataRequest) providers.ReadDataResponse {
	call := "ReadData(" + req.TypeName + ")"
	cfg, err := encodeValue(req.Config)
	if err != nil {
		return providers.ReadDataResponse{Diagnostics: c.garbage(call, err)}
	}
	r, err := c.rpc.ReadData(ctx, &pb.ReadData_Request{TypeName: req.TypeName, Config: cfg})
	if err != nil {
		return providers.ReadDataResponse{Diagnostics: c.failed(call, err)}
	}
	v, err := decodeValue(r.State)
	if err != nil {
		return providers.ReadDataResponse{Diagnostics: c.garbage(call, err)}
	}
	return providers.ReadDataResponse{State: v, Diagnostics: decodeDiags(r.Diagnostics)}
}

func (c *client) Invoke(ctx context.Context, req providers.InvokeRequest) providers.InvokeResponse {
	call := "Invoke(" + req.Action + ")"
	args, err := encodeValue(req.Args)
	if err != nil {
		return providers.InvokeResponse{Diagnostics: c.garbage(call, err)}
	}
	preq := &pb.Invoke_Request{Action: req.Action, Args: args}
	resp, err := c.invocations.do(ctx, preq, req.Progress)
	if errors.Is(err, errNoInvocations) {
		resp, err = c.invokeRPC(ctx, preq, req.Progress)
	}
	if err != nil {
		if _, ok := err.(garbageError); ok {
			return providers.InvokeResponse{Diagnostics: c.garbage(call, err)}
		}
		return providers.InvokeResponse{Diagnostics: c.failed(call, err)}
	}
	v, err := decodeValue(resp.Result)
	if err != nil {
		return providers.InvokeResponse{Diagnostics: c.garbage(call, err)}
	}
	return providers.InvokeResponse{Result: v, Diagnostics: decodeDiags(resp.Diagnostics)}
}

// garbageError is an answer that does not follow the protocol.
type garbageError struct{ error }

// invokeRPC makes an Invoke RPC of its own, for a plugin without
// Invocations.
func (c *client) invokeRPC(ctx context.Context, req *pb.Invoke_Request, progress func(providers.Progress)) (*pb.Invoke_Response, error) {
	stream, err := c.rpc.Invoke(ctx, req)
	if err != nil {
		return nil, err
	}
	for {
		ev, err := stream.Recv()
		if err == io.EOF {
			return nil, garbageError{errors.New("the stream ended without a result")}
		}
		if err != nil {
			return nil, err
		}
		switch e := ev.Event.(type) {
		case *pb.Invoke_Event_Progress:
			if progress != nil && e.Progress != nil {
				progress(decodeProgress(e.Progress))
			}
		case *pb.Invoke_Event_Result:
			if e.Result == nil {
				return nil, garbageError{errors.New("empty result")}
			}
			return e.Result, nil
		}
	}
}

func (c *client) Stop(ctx context.Context, req providers.StopRequest) providers.StopResponse {
	r, err := c.rpc.Stop(ctx, &pb.Stop_Request{})
	if err != nil {
		return providers.StopResponse{Diagnostics: c.failed("Stop", err)}
	}
	return providers.StopResponse{Diagnostics: decodeDiags(r.Diagnostics)}
}

// Close ends the plugin process.
func (c *client) Close() error {
	if c.process != nil {
		c.process.Kill()
	}
	return nil
}
