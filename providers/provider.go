package providers

import (
	"context"

	"github.com/drover-dr/drover/providers/schema"
	"github.com/zclconf/go-cty/cty"
)

// Provider is implemented by every provider, and by the plugin client that
// stands in for one running in another process. All methods may be called
// concurrently once Configure has returned.
type Provider interface {
	Schema(ctx context.Context, req SchemaRequest) SchemaResponse
	Configure(ctx context.Context, req ConfigureRequest) ConfigureResponse
	Validate(ctx context.Context, req ValidateRequest) ValidateResponse
	Read(ctx context.Context, req ReadRequest) ReadResponse
	Plan(ctx context.Context, req PlanRequest) PlanResponse
	Apply(ctx context.Context, req ApplyRequest) ApplyResponse
	Import(ctx context.Context, req ImportRequest) ImportResponse
	ReadData(ctx context.Context, req ReadDataRequest) ReadDataResponse
	Invoke(ctx context.Context, req InvokeRequest) InvokeResponse
	// Stop asks every call in flight to return as soon as it safely can.
	Stop(ctx context.Context, req StopRequest) StopResponse
	// Close releases the provider (ends the plugin process).
	Close() error
}

// QueuedPerSlot is how many calls the core keeps in flight for each unit of
// parallelism. A provider runs at most Parallelism calls at once (the
// plugin server enforces it); the extra calls wait beside it, so that
// calls travel in batches and no round trip leaves the provider idle.
const QueuedPerSlot = 8

// Factory starts a provider. Each call returns a fresh instance.
type Factory func() (Provider, error)

type SchemaRequest struct{}

type SchemaResponse struct {
	Schema      *schema.Provider
	Diagnostics Diagnostics
}

type ConfigureRequest struct {
	// Config conforms to the provider's Config block; null when there is none.
	Config cty.Value
	// Parallelism is how many calls the core will make at once at most.
	Parallelism int
}

type ConfigureResponse struct {
	Diagnostics Diagnostics
}

// Kind tells which part of a provider's schema a ValidateRequest is about.
type Kind int

const (
	KindResource Kind = iota
	KindData
	KindAction
)

type ValidateRequest struct {
	Kind     Kind
	TypeName string
	// Config may hold unknown values: validation happens before planning.
	Config cty.Value
}

type ValidateResponse struct {
	Diagnostics Diagnostics
}

// ReadRequest refreshes a resource instance from the real world.
type ReadRequest struct {
	TypeName string
	Prior    cty.Value
	Private  []byte
}

// ReadResponse carries the current value; a null New means the object is
// gone and the planner will plan to create it again.
type ReadResponse struct {
	New         cty.Value
	Private     []byte
	Diagnostics Diagnostics
}

// PlanRequest asks what applying Config to Prior would produce. Prior is
// null for a create; Config is null for a delete. Proposed is Config merged
// with Prior by schema.Block.ProposedNew; a caller may leave it out
// (cty.NilVal), and the plugin layer and the SDK then derive it.
type PlanRequest struct {
	TypeName     string
	Prior        cty.Value
	Proposed     cty.Value
	Config       cty.Value
	PriorPrivate []byte
}

// PlanResponse gives the planned value (unknown where only apply can tell)
// and the attribute paths whose change forces a replacement.
type PlanResponse struct {
	Planned         cty.Value
	RequiresReplace []cty.Path
	PlannedPrivate  []byte
	// Description is an optional one-line summary for people, e.g.
	// "213 MiB in 3,412 blocks changed since the last copy 2h13m ago".
	Description string
	Diagnostics Diagnostics
}

// ApplyRequest makes Planned real. Planned is null for a delete.
type ApplyRequest struct {
	TypeName       string
	Prior          cty.Value
	Planned        cty.Value
	Config         cty.Value
	PlannedPrivate []byte
	// Progress, when set, receives progress of long work; never called
	// after Apply returns.
	Progress func(Progress)
}

type ApplyResponse struct {
	New         cty.Value
	Private     []byte
	Diagnostics Diagnostics
}

// Progress reports how far a long call has got.
type Progress struct {
	Done    int64
	Total   int64 // 0 when unknown
	Unit    string
	Message string
}

// Output units: a Progress of one of these units carries, in Message, a
// chunk of what a command an action runs wrote on that stream, in order
// (core's run action); the caller keeps it as the command's output.
const (
	StdoutUnit = "stdout"
	StderrUnit = "stderr"
)

type ImportRequest struct {
	TypeName string
	ID       string
}

type ImportResponse struct {
	Imported    []ImportedResource
	Diagnostics Diagnostics
}

type ImportedResource struct {
	TypeName string
	State    cty.Value
	Private  []byte
}

type ReadDataRequest struct {
	TypeName string
	Config   cty.Value
}

type ReadDataResponse struct {
	State       cty.Value
	Diagnostics Diagnostics
}

// InvokeRequest runs a runbook action.
type InvokeRequest struct {
	Action   string
	Args     cty.Value
	Progress func(Progress)
}

type InvokeResponse struct {
	Result      cty.Value
	Diagnostics Diagnostics
}

type StopRequest struct{}

type StopResponse struct {
	Diagnostics Diagnostics
}
