package plugin

import (
	"fmt"
	"math/big"

	"github.com/drover-dr/drover/providers"
	pb "github.com/drover-dr/drover/providers/proto/v1"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"github.com/zclconf/go-cty/cty/msgpack"
)

// encodeValue puts a value on the wire; cty.NilVal is "no value".
func encodeValue(v cty.Value) (*pb.DynamicValue, error) {
	if v == cty.NilVal {
		return nil, nil
	}
	ty := v.Type()
	tj, err := types.marshal(ty)
	if err != nil {
		return nil, err
	}
	if mp, ok := encodings.get(tj, v); ok {
		return &pb.DynamicValue{Msgpack: mp, TypeJson: tj}, nil
	}
	// Marks (sensitivity) do not cross the wire. Values rarely carry
	// them, so they are looked for only when encoding fails on one.
	mp, err := msgpack.Marshal(v, ty)
	if err != nil && v.ContainsMarked() {
		v, _ = v.UnmarkDeep()
		mp, err = msgpack.Marshal(v, ty)
	}
	if err != nil {
		return nil, err
	}
	encodings.put(tj, v, mp)
	return &pb.DynamicValue{Msgpack: mp, TypeJson: tj}, nil
}

func decodeValue(dv *pb.DynamicValue) (cty.Value, error) {
	if dv == nil {
		return cty.NilVal, nil
	}
	if v, ok := values.get(dv.TypeJson, dv.Msgpack); ok {
		return v, nil
	}
	ty, err := types.unmarshal(dv.TypeJson)
	if err != nil {
		return cty.NilVal, fmt.Errorf("bad value type: %w", err)
	}
	v, err := msgpack.Unmarshal(dv.Msgpack, ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("bad value: %w", err)
	}
	// msgpack reads an array shorter than its tuple type as a shorter
	// tuple, without an error.
	if errs := v.Type().TestConformance(ty); len(errs) > 0 {
		return cty.NilVal, fmt.Errorf("bad value: a %s where its type says %s", v.Type().FriendlyName(), ty.FriendlyName())
	}
	values.put(dv.TypeJson, dv.Msgpack, v)
	return v, nil
}

func encodePath(p cty.Path) *pb.AttributePath {
	if len(p) == 0 {
		return nil
	}
	out := &pb.AttributePath{}
	for _, s := range p {
		switch s := s.(type) {
		case cty.GetAttrStep:
			out.Steps = append(out.Steps, &pb.AttributePath_Step{Selector: &pb.AttributePath_Step_AttributeName{AttributeName: s.Name}})
		case cty.IndexStep:
			if s.Key.Type() == cty.Number {
				i, _ := s.Key.AsBigFloat().Int64()
				out.Steps = append(out.Steps, &pb.AttributePath_Step{Selector: &pb.AttributePath_Step_ElementKeyInt{ElementKeyInt: i}})
			} else if s.Key.Type() == cty.String {
				out.Steps = append(out.Steps, &pb.AttributePath_Step{Selector: &pb.AttributePath_Step_ElementKeyString{ElementKeyString: s.Key.AsString()}})
			}
		}
	}
	return out
}

func decodePath(ap *pb.AttributePath) cty.Path {
	if ap == nil {
		return nil
	}
	var p cty.Path
	for _, s := range ap.Steps {
		switch sel := s.Selector.(type) {
		case *pb.AttributePath_Step_AttributeName:
			p = p.GetAttr(sel.AttributeName)
		case *pb.AttributePath_Step_ElementKeyString:
			p = p.Index(cty.StringVal(sel.ElementKeyString))
		case *pb.AttributePath_Step_ElementKeyInt:
			p = p.Index(cty.NumberVal(new(big.Float).SetInt64(sel.ElementKeyInt)))
		}
	}
	return p
}

func encodePaths(ps []cty.Path) []*pb.AttributePath {
	out := make([]*pb.AttributePath, 0, len(ps))
	for _, p := range ps {
		out = append(out, encodePath(p))
	}
	return out
}

func decodePaths(ps []*pb.AttributePath) []cty.Path {
	var out []cty.Path
	for _, p := range ps {
		out = append(out, decodePath(p))
	}
	return out
}

func encodeDiags(ds providers.Diagnostics) []*pb.Diagnostic {
	out := make([]*pb.Diagnostic, 0, len(ds))
	for _, d := range ds {
		sev := pb.Diagnostic_ERROR
		if d.Severity == providers.Warning {
			sev = pb.Diagnostic_WARNING
		}
		out = append(out, &pb.Diagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, Attribute: encodePath(d.Path)})
	}
	return out
}

func decodeDiags(ds []*pb.Diagnostic) providers.Diagnostics {
	var out providers.Diagnostics
	for _, d := range ds {
		sev := providers.Error
		if d.Severity == pb.Diagnostic_WARNING {
			sev = providers.Warning
		}
		out = append(out, providers.Diagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, Path: decodePath(d.Attribute)})
	}
	return out
}

func encodeProgress(p providers.Progress) *pb.Progress {
	return &pb.Progress{Done: p.Done, Total: p.Total, Unit: p.Unit, Message: p.Message}
}

func decodeProgress(p *pb.Progress) providers.Progress {
	return providers.Progress{Done: p.Done, Total: p.Total, Unit: p.Unit, Message: p.Message}
}

func encodeSchema(s *schema.Provider) (*pb.GetSchema_Response, error) {
	out := &pb.GetSchema_Response{
		ResourceTypes: map[string]*pb.Schema_Resource{},
		DataSources:   map[string]*pb.Schema_Resource{},
		Actions:       map[string]*pb.Schema_Action{},
	}
	var err error
	if out.ProviderConfig, err = encodeBlock(s.Config); err != nil {
		return nil, fmt.Errorf("provider configuration: %w", err)
	}
	for name, r := range s.ResourceTypes {
		if out.ResourceTypes[name], err = encodeResource(r); err != nil {
			return nil, fmt.Errorf("resource type %q: %w", name, err)
		}
	}
	for name, r := range s.DataSources {
		if out.DataSources[name], err = encodeResource(r); err != nil {
			return nil, fmt.Errorf("data source %q: %w", name, err)
		}
	}
	for name, a := range s.Actions {
		pa := &pb.Schema_Action{Description: a.Description}
		if pa.Args, err = encodeBlock(a.Args); err != nil {
			return nil, fmt.Errorf("action %q: %w", name, err)
		}
		if a.Result != cty.NilType {
			if pa.ResultTypeJson, err = ctyjson.MarshalType(a.Result); err != nil {
				return nil, fmt.Errorf("action %q: %w", name, err)
			}
		}
		out.Actions[name] = pa
	}
	return out, nil
}

func encodeResource(r *schema.Resource) (*pb.Schema_Resource, error) {
	b, err := encodeBlock(r.Block)
	return &pb.Schema_Resource{Version: r.Version, Description: r.Description, Block: b, StateOnly: r.StateOnly}, err
}

func encodeBlock(b *schema.Block) (*pb.Schema_Block, error) {
	if b == nil {
		return nil, nil
	}
	out := &pb.Schema_Block{Description: b.Description, Attributes: map[string]*pb.Schema_Attribute{}, BlockTypes: map[string]*pb.Schema_NestedBlock{}}
	for name, a := range b.Attributes {
		tj, err := ctyjson.MarshalType(a.Type)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		out.Attributes[name] = &pb.Schema_Attribute{TypeJson: tj, Description: a.Description, Required: a.Required,
			Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, ForceNew: a.ForceNew}
	}
	for name, nb := range b.BlockTypes {
		inner, err := encodeBlock(&nb.Block)
		if err != nil {
			return nil, fmt.Errorf("block %q: %w", name, err)
		}
		out.BlockTypes[name] = &pb.Schema_NestedBlock{Block: inner, Nesting: pb.Schema_NestedBlock_Nesting(nb.Nesting),
			MinItems: int64(nb.MinItems), MaxItems: int64(nb.MaxItems)}
	}
	return out, nil
}

func decodeSchema(r *pb.GetSchema_Response) (*schema.Provider, error) {
	out := &schema.Provider{
		ResourceTypes: map[string]*schema.Resource{},
		DataSources:   map[string]*schema.Resource{},
		Actions:       map[string]*schema.Action{},
	}
	var err error
	if out.Config, err = decodeBlock(r.ProviderConfig); err != nil {
		return nil, fmt.Errorf("provider configuration: %w", err)
	}
	for name, pr := range r.ResourceTypes {
		if out.ResourceTypes[name], err = decodeResource(pr); err != nil {
			return nil, fmt.Errorf("resource type %q: %w", name, err)
		}
	}
	for name, pr := range r.DataSources {
		if out.DataSources[name], err = decodeResource(pr); err != nil {
			return nil, fmt.Errorf("data source %q: %w", name, err)
		}
	}
	for name, pa := range r.Actions {
		a := &schema.Action{Description: pa.Description}
		if a.Args, err = decodeBlock(pa.Args); err != nil {
			return nil, fmt.Errorf("action %q: %w", name, err)
		}
		if len(pa.ResultTypeJson) > 0 {
			if a.Result, err = ctyjson.UnmarshalType(pa.ResultTypeJson); err != nil {
				return nil, fmt.Errorf("action %q: %w", name, err)
			}
		}
		out.Actions[name] = a
	}
	return out, nil
}

func decodeResource(pr *pb.Schema_Resource) (*schema.Resource, error) {
	b, err := decodeBlock(pr.Block)
	if err != nil {
		return nil, err
	}
	if b == nil {
		b = &schema.Block{}
	}
	return &schema.Resource{Version: pr.Version, Description: pr.Description, Block: b, StateOnly: pr.StateOnly}, nil
}

func decodeBlock(pb_ *pb.Schema_Block) (*schema.Block, error) {
	if pb_ == nil {
		return nil, nil
	}
	out := &schema.Block{Description: pb_.Description, Attributes: map[string]*schema.Attribute{}, BlockTypes: map[string]*schema.NestedBlock{}}
	for name, a := range pb_.Attributes {
		ty, err := ctyjson.UnmarshalType(a.TypeJson)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		out.Attributes[name] = &schema.Attribute{Type: ty, Description: a.Description, Required: a.Required,
			Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, ForceNew: a.ForceNew}
	}
	for name, nb := range pb_.BlockTypes {
		inner, err := decodeBlock(nb.Block)
		if err != nil {
			return nil, fmt.Errorf("block %q: %w", name, err)
		}
		if inner == nil {
			inner = &schema.Block{}
		}
		if nb.Nesting < pb.Schema_NestedBlock_SINGLE || nb.Nesting > pb.Schema_NestedBlock_MAP {
			return nil, fmt.Errorf("block %q: unknown nesting %d", name, nb.Nesting)
		}
		out.BlockTypes[name] = &schema.NestedBlock{Block: *inner, Nesting: schema.Nesting(nb.Nesting),
			MinItems: int(nb.MinItems), MaxItems: int(nb.MaxItems)}
	}
	return out, nil
}
