package plugin

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/drover-dr/drover/providers"
	pb "github.com/drover-dr/drover/providers/proto/v1"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// garbageServer answers with bytes that are not a value of their type.
type garbageServer struct {
	pb.UnimplementedProviderServer
}

func (garbageServer) PlanBatch(stream pb.Provider_PlanBatchServer) error {
	req, err := stream.Recv()
	if err != nil {
		return err
	}
	for i := range req.Calls {
		stream.Send(&pb.PlanBatch_Result{Index: int32(i), Response: &pb.Plan_Response{
			Planned: &pb.DynamicValue{Msgpack: []byte{0xc1, 0xff, 0x00}, TypeJson: []byte(`"string"`)},
		}})
	}
	return nil
}

// Invoke is the RPC of a plugin that serves no Invocations (one built
// before them): the client falls back to it.
func (garbageServer) Invoke(req *pb.Invoke_Request, stream pb.Provider_InvokeServer) error {
	return stream.Send(&pb.Invoke_Event{Event: &pb.Invoke_Event_Result{Result: &pb.Invoke_Response{
		Result: &pb.DynamicValue{Msgpack: []byte{0xc1, 0xff, 0x00}, TypeJson: []byte(`"string"`)},
	}}})
}

func (garbageServer) GetSchema(context.Context, *pb.GetSchema_Request) (*pb.GetSchema_Response, error) {
	return &pb.GetSchema_Response{ResourceTypes: map[string]*pb.Schema_Resource{
		"bad": {Block: &pb.Schema_Block{Attributes: map[string]*pb.Schema_Attribute{"x": {TypeJson: []byte(`"no-such-type"`), Optional: true}}}},
	}}, nil
}

func TestGarbageAnswersBecomeDiagnostics(t *testing.T) {
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	pb.RegisterProviderServer(srv, garbageServer{})
	go srv.Serve(lis)
	defer srv.Stop()
	conn, err := grpc.Dial("bufnet", grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return lis.DialContext(ctx)
	}), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := newClient(pb.NewProviderClient(conn))
	c.name = "junk"

	tests := []struct {
		name string
		call func() providers.Diagnostics
	}{
		{"undecodable value", func() providers.Diagnostics {
			return c.Plan(context.Background(), providers.PlanRequest{TypeName: "bad", Prior: cty.NullVal(cty.String),
				Proposed: cty.StringVal("x"), Config: cty.StringVal("x")}).Diagnostics
		}},
		{"undecodable invoke result", func() providers.Diagnostics {
			return c.Invoke(context.Background(), providers.InvokeRequest{Action: "x", Args: cty.EmptyObjectVal}).Diagnostics
		}},
		{"undecodable schema", func() providers.Diagnostics {
			return c.Schema(context.Background(), providers.SchemaRequest{}).Diagnostics
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diags := tt.call()
			if !diags.HasErrors() || !strings.Contains(diags[0].Summary, `Provider "junk" returned an invalid answer`) {
				t.Fatalf("diagnostics = %+v", diags)
			}
		})
	}
}
