package sdk

import (
	"context"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/zclconf/go-cty/cty"
)

// Provider describes a provider. Only Name and the schemas are required;
// a nil function means the provider does not need it.
type Provider struct {
	// Name is the provider's name, used in diagnostics.
	Name string
	// Config is the schema of the provider's own configuration; may be nil.
	Config *schema.Block
	// Configure receives the provider configuration (null when the
	// configuration has no provider block) before any other call.
	Configure   func(ctx context.Context, config cty.Value) providers.Diagnostics
	Resources   map[string]*Resource
	DataSources map[string]*DataSource
	Actions     map[string]*Action
}

// Resource implements one resource type. Values passed to its functions
// conform to Schema.Block's implied type; values it returns must too.
type Resource struct {
	Schema *schema.Resource
	// Validate checks what the schema cannot say (one of two arguments,
	// the format of a string). Config may hold unknown values.
	Validate func(ctx context.Context, config cty.Value) providers.Diagnostics
	// CustomizePlan adjusts the planned value the SDK proposes: computes
	// attributes known at plan time, marks others unknown, applies
	// defaults, adds attribute paths that force replacement.
	CustomizePlan func(ctx context.Context, p *Plan) providers.Diagnostics
	// Read returns the object as it is now, or a null value when it is
	// gone. Nil means the resource is pure state: Read returns state as is.
	Read func(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics)
	// Create makes req.Planned real and returns the new state, every
	// unknown of the plan replaced by a known value.
	Create func(ctx context.Context, req ApplyRequest) (cty.Value, providers.Diagnostics)
	// Update changes req.Prior into req.Planned in place. Nil means every
	// change replaces the object.
	Update func(ctx context.Context, req ApplyRequest) (cty.Value, providers.Diagnostics)
	// Delete removes req.Prior (req.Planned is null). Deleting an object
	// that is already gone must succeed: an interrupted apply retries it.
	Delete func(ctx context.Context, req ApplyRequest) providers.Diagnostics
	// DescribeDelete says, for the plan, what Delete would do to prior
	// beyond forgetting it (the files it removes, with their sizes, or
	// that it leaves them); "" says nothing. Nil: nothing to say.
	DescribeDelete func(ctx context.Context, prior cty.Value) (string, providers.Diagnostics)
	// Import returns enough of the state of the object id names for Read
	// to complete it. Nil means the type cannot be imported.
	Import func(ctx context.Context, id string) (cty.Value, providers.Diagnostics)
}

// Plan is a planned change that CustomizePlan may adjust.
type Plan struct {
	// Prior is the current state; null for a create.
	Prior cty.Value
	// Config is the configuration; it may hold unknown values.
	Config cty.Value
	// Planned is what the SDK proposes: Config, with computed attributes
	// Config leaves null taken from Prior (unknown on a create).
	Planned cty.Value
	// RequiresReplace lists further attribute paths whose change forces
	// replacement; the SDK adds ForceNew attributes by itself.
	RequiresReplace []cty.Path
	// Description is an optional one-line summary of the change for people.
	Description string
}

// ApplyRequest is what Create, Update and Delete receive.
type ApplyRequest struct {
	// Prior is null for Create.
	Prior cty.Value
	// Planned is null for Delete. It may hold unknown values, which the
	// result must replace with known ones.
	Planned cty.Value
	// Progress reports how far long work has got; never nil.
	Progress func(providers.Progress)
}

// DataSource implements one data source: Read computes the state from the
// configuration, which is wholly known.
type DataSource struct {
	Schema   *schema.Resource
	Validate func(ctx context.Context, config cty.Value) providers.Diagnostics
	Read     func(ctx context.Context, config cty.Value) (cty.Value, providers.Diagnostics)
}

// Action implements one runbook action.
type Action struct {
	Schema *schema.Action
	Invoke func(ctx context.Context, req InvokeRequest) (cty.Value, providers.Diagnostics)
}

// InvokeRequest is what an Action receives.
type InvokeRequest struct {
	// Args conform to the action's Args block (null when it has none).
	Args cty.Value
	// Progress reports how far the action has got; never nil.
	Progress func(providers.Progress)
}
