// Command drover-provider-hello is a complete third-party Drover provider:
// one resource type, hello_greeting, that writes a greeting file into a
// folder of the machine running Drover. It shows the whole provider
// surface an author deals with: a provider configuration block, a schema,
// plan-time computed values, create/update/delete and drift detection by
// Read.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

func main() {
	sdk.Serve(newProvider())
}

// newProvider returns the provider. Its configuration, the word greetings
// start with, is set by Configure, which Drover calls once before any
// other call.
func newProvider() *sdk.Provider {
	word := "Hello"
	return &sdk.Provider{
		Name: "hello",
		Config: &schema.Block{Attributes: map[string]*schema.Attribute{
			"greeting": {Type: cty.String, Optional: true, Description: `The word greetings start with; "Hello" when not set.`},
		}},
		Configure: func(ctx context.Context, config cty.Value) providers.Diagnostics {
			if !config.IsNull() && !config.GetAttr("greeting").IsNull() {
				word = config.GetAttr("greeting").AsString()
			}
			return nil
		},
		Resources: map[string]*sdk.Resource{"hello_greeting": greeting(&word)},
	}
}

var greetingSchema = &schema.Resource{
	Description: "A file holding a greeting.",
	Block: &schema.Block{Attributes: map[string]*schema.Attribute{
		"dir":  {Type: cty.String, Required: true, ForceNew: true, Description: "Folder the greeting file is written to."},
		"name": {Type: cty.String, Required: true, Description: "Who is greeted."},
		"text": {Type: cty.String, Computed: true, Description: "The greeting, known at plan time."},
		"path": {Type: cty.String, Computed: true, Description: "The file written."},
	}},
}

func greeting(word *string) *sdk.Resource {
	withComputed := func(v cty.Value) cty.Value { return withComputed(v, *word) }
	return &sdk.Resource{
		Schema: greetingSchema,
		CustomizePlan: func(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
			p.Planned = withComputed(p.Planned)
			return nil
		},
		Read: func(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
			b, err := os.ReadFile(state.GetAttr("path").AsString())
			if errors.Is(err, fs.ErrNotExist) {
				return cty.NullVal(state.Type()), nil
			}
			if err != nil {
				return state, providers.Diagnostics{providers.Errorf("Cannot read the greeting", "%v", err)}
			}
			return sdk.SetAttrs(state, map[string]cty.Value{"text": cty.StringVal(string(b))}), nil
		},
		Create: func(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
			return write(withComputed(req.Planned))
		},
		Update: func(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
			return write(withComputed(req.Planned))
		},
		Delete: func(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
			err := os.Remove(req.Prior.GetAttr("path").AsString())
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return providers.Diagnostics{providers.Errorf("Cannot delete the greeting", "%v", err)}
			}
			return nil
		},
	}
}

// withComputed fills in text and path once dir and name are known.
func withComputed(v cty.Value, word string) cty.Value {
	dir, name := v.GetAttr("dir"), v.GetAttr("name")
	if !dir.IsKnown() || !name.IsKnown() || dir.IsNull() || name.IsNull() {
		return sdk.SetAttrs(v, map[string]cty.Value{"text": cty.UnknownVal(cty.String), "path": cty.UnknownVal(cty.String)})
	}
	return sdk.SetAttrs(v, map[string]cty.Value{
		"text": cty.StringVal(fmt.Sprintf("%s, %s!\n", word, name.AsString())),
		"path": cty.StringVal(filepath.Join(dir.AsString(), "greeting.txt")),
	})
}

func write(v cty.Value) (cty.Value, providers.Diagnostics) {
	path := v.GetAttr("path").AsString()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot write the greeting", "%v", err)}
	}
	if err := os.WriteFile(path, []byte(v.GetAttr("text").AsString()), 0o644); err != nil {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot write the greeting", "%v", err)}
	}
	return v, nil
}
