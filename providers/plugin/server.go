package plugin

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/drover-dr/drover/providers"
	pb "github.com/drover-dr/drover/providers/proto/v1"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/zclconf/go-cty/cty"
)

// server serves one providers.Provider over gRPC in a plugin process.
type server struct {
	pb.UnimplementedProviderServer
	impl providers.Provider
	// calls counts the invocations of Invocations streams, which the
	// interceptors cannot see.
	calls *inflight
	// slots bounds the calls of batches that run at once: the parallelism
	// given to Configure. Replaced only by Configure, before any batch.
	slots chan struct{}

	// schemaOnce guards schema, the provider's schema, fetched when a
	// Plan request leaves the proposed value to the provider side.
	schemaOnce sync.Once
	schema     *schema.Provider
}

// block returns the schema of a resource type, asking the provider once.
func (s *server) block(ctx context.Context, typeName string) (*schema.Block, error) {
	s.schemaOnce.Do(func() { s.schema = s.impl.Schema(ctx, providers.SchemaRequest{}).Schema })
	if s.schema == nil {
		return nil, errors.New("the provider has no schema")
	}
	rs, ok := s.schema.ResourceTypes[typeName]
	if !ok {
		return nil, fmt.Errorf("no resource type %q", typeName)
	}
	return rs.Block, nil
}

// defaultParallelism applies until Configure gives one.
const defaultParallelism = 10

// guard turns a panic in the provider into an error diagnostic, so that a
// bug in one call does not end the process and every call in flight.
func guard(call string, diags *[]*pb.Diagnostic) {
	if r := recover(); r != nil {
		*diags = append(*diags, &pb.Diagnostic{Severity: pb.Diagnostic_ERROR,
			Summary: "Provider panicked",
			Detail:  fmt.Sprintf("The provider panicked during %s: %v\n\n%s", call, r, debug.Stack())})
	}
}

func badRequest(err error) []*pb.Diagnostic {
	return []*pb.Diagnostic{{Severity: pb.Diagnostic_ERROR, Summary: "Malformed request", Detail: err.Error()}}
}

func badResult(err error) []*pb.Diagnostic {
	return []*pb.Diagnostic{{Severity: pb.Diagnostic_ERROR, Summary: "Provider returned an unencodable value", Detail: err.Error()}}
}

func (s *server) GetSchema(ctx context.Context, req *pb.GetSchema_Request) (resp *pb.GetSchema_Response, _ error) {
	resp = &pb.GetSchema_Response{}
	defer guard("GetSchema", &resp.Diagnostics)
	r := s.impl.Schema(ctx, providers.SchemaRequest{})
	if r.Schema != nil {
		enc, err := encodeSchema(r.Schema)
		if err != nil {
			return &pb.GetSchema_Response{Diagnostics: badResult(err)}, nil
		}
		resp = enc
	}
	resp.Diagnostics = append(resp.Diagnostics, encodeDiags(r.Diagnostics)...)
	return resp, nil
}

func (s *server) Configure(ctx context.Context, req *pb.Configure_Request) (resp *pb.Configure_Response, _ error) {
	resp = &pb.Configure_Response{}
	defer guard("Configure", &resp.Diagnostics)
	cfg, err := decodeValue(req.Config)
	if err != nil {
		resp.Diagnostics = badRequest(err)
		return resp, nil
	}
	if req.Parallelism > 0 {
		s.slots = make(chan struct{}, req.Parallelism)
	}
	r := s.impl.Configure(ctx, providers.ConfigureRequest{Config: cfg, Parallelism: int(req.Parallelism)})
	resp.Diagnostics = encodeDiags(r.Diagnostics)
	return resp, nil
}

func (s *server) Validate(ctx context.Context, req *pb.Validate_Request) (resp *pb.Validate_Response, _ error) {
	resp = &pb.Validate_Response{}
	defer guard("Validate", &resp.Diagnostics)
	cfg, err := decodeValue(req.Config)
	if err != nil {
		resp.Diagnostics = badRequest(err)
		return resp, nil
	}
	r := s.impl.Validate(ctx, providers.ValidateRequest{Kind: providers.Kind(req.Kind), TypeName: req.TypeName, Config: cfg})
	resp.Diagnostics = encodeDiags(r.Diagnostics)
	return resp, nil
}

func (s *server) Read(ctx context.Context, req *pb.Read_Request) (*pb.Read_Response, error) {
	return s.read(ctx, req), nil
}

func (s *server) read(ctx context.Context, req *pb.Read_Request) (resp *pb.Read_Response) {
	resp = &pb.Read_Response{}
	defer guard("Read", &resp.Diagnostics)
	prior, err := decodeValue(req.Prior)
	if err != nil {
		resp.Diagnostics = badRequest(err)
		return resp
	}
	r := s.impl.Read(ctx, providers.ReadRequest{TypeName: req.TypeName, Prior: prior, Private: req.Private})
	if resp.New, err = encodeValue(r.New); err != nil {
		resp.Diagnostics = badResult(err)
		return resp
	}
	resp.Private = r.Private
	resp.Diagnostics = encodeDiags(r.Diagnostics)
	return resp
}

func (s *server) Plan(ctx context.Context, req *pb.Plan_Request) (*pb.Plan_Response, error) {
	return s.plan(ctx, req), nil
}

func (s *server) plan(ctx context.Context, req *pb.Plan_Request) (resp *pb.Plan_Response) {
	resp = &pb.Plan_Response{}
	defer guard("Plan", &resp.Diagnostics)
	vals, err := decodeValues(req.Prior, req.Proposed, req.Config)
	if err != nil {
		resp.Diagnostics = badRequest(err)
		return resp
	}
	if req.Proposed == nil {
		block, err := s.block(ctx, req.TypeName)
		if err != nil {
			resp.Diagnostics = badRequest(err)
			return resp
		}
		vals[1] = block.ProposedNew(vals[0], vals[2])
	}
	r := s.impl.Plan(ctx, providers.PlanRequest{TypeName: req.TypeName, Prior: vals[0], Proposed: vals[1], Config: vals[2], PriorPrivate: req.PriorPrivate})
	if resp.Planned, err = encodeValue(r.Planned); err != nil {
		resp.Diagnostics = badResult(err)
		return resp
	}
	resp.RequiresReplace = encodePaths(r.RequiresReplace)
	resp.PlannedPrivate = r.PlannedPrivate
	resp.Description = r.Description
	resp.Diagnostics = encodeDiags(r.Diagnostics)
	return resp
}

func decodeValues(dvs ...*pb.DynamicValue) ([]cty.Value, error) {
	out := make([]cty.Value, len(dvs))
	for i, dv := range dvs {
		v, err := decodeValue(dv)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (s *server) Apply(req *pb.Apply_Request, stream pb.Provider_ApplyServer) error {
	send, stop := progressSender(func(p providers.Progress) error {
		return stream.Send(&pb.Apply_Event{Event: &pb.Apply_Event_Progress{Progress: encodeProgress(p)}})
	})
	resp := s.apply(stream.Context(), req, send)
	stop()
	return stream.Send(&pb.Apply_Event{Event: &pb.Apply_Event_Result{Result: resp}})
}

func (s *server) apply(ctx context.Context, req *pb.Apply_Request, progress func(providers.Progress)) (resp *pb.Apply_Response) {
	resp = &pb.Apply_Response{}
	defer guard("Apply", &resp.Diagnostics)
	vals, err := decodeValues(req.Prior, req.Planned, req.Config)
	if err != nil {
		resp.Diagnostics = badRequest(err)
		return resp
	}
	r := s.impl.Apply(ctx, providers.ApplyRequest{TypeName: req.TypeName, Prior: vals[0], Planned: vals[1],
		Config: vals[2], PlannedPrivate: req.PlannedPrivate, Progress: progress})
	if resp.New, err = encodeValue(r.New); err != nil {
		resp.Diagnostics = badResult(err)
		return resp
	}
	resp.Private = r.Private
	resp.Diagnostics = encodeDiags(r.Diagnostics)
	return resp
}

func (s *server) Import(ctx context.Context, req *pb.Import_Request) (resp *pb.Import_Response, _ error) {
	resp = &pb.Import_Response{}
	defer guard("Import", &resp.Diagnostics)
	r := s.impl.Import(ctx, providers.ImportRequest{TypeName: req.TypeName, ID: req.Id})
	for _, im := range r.Imported {
		st, err := encodeValue(im.State)
		if err != nil {
			resp.Diagnostics = badResult(err)
			return resp, nil
		}
		resp.Imported = append(resp.Imported, &pb.Import_Imported{TypeName: im.TypeName, State: st, Private: im.Private})
	}
	resp.Diagnostics = encodeDiags(r.Diagnostics)
	return resp, nil
}

func (s *server) ReadData(ctx context.Context, req *pb.ReadData_Request) (resp *pb.ReadData_Response, _ error) {
	resp = &pb.ReadData_Response{}
	defer guard("ReadData", &resp.Diagnostics)
	cfg, err := decodeValue(req.Config)
	if err != nil {
		resp.Diagnostics = badRequest(err)
		return resp, nil
	}
	r := s.impl.ReadData(ctx, providers.ReadDataRequest{TypeName: req.TypeName, Config: cfg})
	if resp.State, err = encodeValue(r.State); err != nil {
		resp.Diagnostics = badResult(err)
		return resp, nil
	}
	resp.Diagnostics = encodeDiags(r.Diagnostics)
	return resp, nil
}

func (s *server) Invoke(req *pb.Invoke_Request, stream pb.Provider_InvokeServer) error {
	resp := s.invoke(stream.Context(), req, stream.Send)
	return stream.Send(&pb.Invoke_Event{Event: &pb.Invoke_Event_Result{Result: resp}})
}

// invoke runs one Invoke, sending its progress events with send, and
// returns its result.
func (s *server) invoke(ctx context.Context, req *pb.Invoke_Request, send func(*pb.Invoke_Event) error) (resp *pb.Invoke_Response) {
	resp = &pb.Invoke_Response{}
	defer guard("Invoke", &resp.Diagnostics)
	args, err := decodeValue(req.Args)
	if err != nil {
		resp.Diagnostics = badRequest(err)
		return resp
	}
	progress, stop := progressSender(func(p providers.Progress) error {
		return send(&pb.Invoke_Event{Event: &pb.Invoke_Event_Progress{Progress: encodeProgress(p)}})
	})
	r := s.impl.Invoke(ctx, providers.InvokeRequest{Action: req.Action, Args: args, Progress: progress})
	stop()
	if resp.Result, err = encodeValue(r.Result); err != nil {
		resp.Diagnostics = badResult(err)
		return resp
	}
	resp.Diagnostics = encodeDiags(r.Diagnostics)
	return resp
}

func (s *server) Stop(ctx context.Context, req *pb.Stop_Request) (resp *pb.Stop_Response, _ error) {
	resp = &pb.Stop_Response{}
	defer guard("Stop", &resp.Diagnostics)
	r := s.impl.Stop(ctx, providers.StopRequest{})
	resp.Diagnostics = encodeDiags(r.Diagnostics)
	return resp, nil
}
