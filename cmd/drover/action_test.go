package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// actionRegistry serves one provider "t" with the action "work": it
// reports progress n times, fails when asked to, and with wait set runs
// until its context ends, then reports that it stopped cleanly.
func actionRegistry() *providers.Registry {
	p := &sdk.Provider{Name: "t", Actions: map[string]*sdk.Action{
		"work": {
			Schema: &schema.Action{
				Args: &schema.Block{Attributes: map[string]*schema.Attribute{
					"n":    {Type: cty.Number, Required: true},
					"fail": {Type: cty.Bool, Optional: true},
					"wait": {Type: cty.Bool, Optional: true},
				}},
				Result: cty.String,
			},
			Invoke: func(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
				n, _ := req.Args.GetAttr("n").AsBigFloat().Int64()
				for i := range n {
					req.Progress(providers.Progress{Done: i + 1, Total: n, Unit: "blocks", Message: "copying"})
				}
				if f := req.Args.GetAttr("fail"); !f.IsNull() && f.True() {
					return cty.NilVal, providers.Diagnostics{providers.Errorf("Copy failed", "The target is full.")}
				}
				if w := req.Args.GetAttr("wait"); !w.IsNull() && w.True() {
					<-ctx.Done()
					return cty.StringVal("stopped cleanly"), nil
				}
				return cty.StringVal("done"), nil
			},
		},
	}}
	return providers.NewRegistry(providers.Entry{Name: "t", Factory: func() (providers.Provider, error) { return sdk.New(p), nil }})
}

func TestInvokeAction(t *testing.T) {
	tests := []struct {
		name       string
		json       bool
		args       map[string]cty.Value
		action     string
		wantResult string
		wantErr    string
		wantOut    []string
	}{
		{name: "text", args: map[string]cty.Value{"n": cty.NumberIntVal(3)}, action: "work",
			wantResult: "done", wantOut: []string{"drive_copy.dpsr: copying\n"}},
		{name: "json events", json: true, args: map[string]cty.Value{"n": cty.NumberIntVal(2)}, action: "work",
			wantResult: "done", wantOut: []string{`"type":"action_progress"`, `"label":"drive_copy.dpsr"`, `"done":2`, `"total":2`}},
		{name: "converted argument", args: map[string]cty.Value{"n": cty.StringVal("1")}, action: "work", wantResult: "done"},
		{name: "failure", args: map[string]cty.Value{"n": cty.NumberIntVal(1), "fail": cty.True}, action: "work",
			wantErr: "Copy failed", wantOut: []string{"The target is full.", `action work for drive_copy.dpsr`}},
		{name: "unknown action", args: nil, action: "nope", wantErr: `provider "t" has no action "nope"`},
		{name: "unknown argument", args: map[string]cty.Value{"n": cty.NumberIntVal(1), "x": cty.True}, action: "work",
			wantErr: `takes no argument "x"`},
		{name: "bad argument type", args: map[string]cty.Value{"n": cty.StringVal("many")}, action: "work",
			wantErr: "arguments of t.work: n:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := actionRegistry()
			defer reg.Close()
			var out, errOut bytes.Buffer
			v := &view{out: &out, err: &errOut, json: tt.json}
			res, err := invokeAction(context.Background(), v, reg, "drive_copy.dpsr", "t", tt.action, tt.args)
			all := out.String() + errOut.String()
			if tt.wantErr != "" {
				if err == nil || (!strings.Contains(err.Error(), tt.wantErr) && !strings.Contains(all, tt.wantErr)) {
					t.Fatalf("err = %v, output %q; want %q", err, all, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v, output %q", err, all)
			} else if res.AsString() != tt.wantResult {
				t.Errorf("result %#v, want %q", res, tt.wantResult)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(all, w) {
					t.Errorf("output %q lacks %q", all, w)
				}
			}
			if tt.json {
				for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
					if !json.Valid([]byte(line)) {
						t.Errorf("not a JSON line: %q", line)
					}
				}
			}
		})
	}
}

// TestInvokeActionStopsCleanly checks that cancelling the command's context
// stops the action through the provider and still returns its result.
func TestInvokeActionStopsCleanly(t *testing.T) {
	reg := actionRegistry()
	defer reg.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	v := &view{out: &bytes.Buffer{}, err: &bytes.Buffer{}}
	res, err := invokeAction(ctx, v, reg, "replication_set.data", "t", "work",
		map[string]cty.Value{"n": cty.NumberIntVal(1), "wait": cty.True})
	if err != nil {
		t.Fatal(err)
	}
	if res.AsString() != "stopped cleanly" {
		t.Errorf("result %#v, want the action's own result after it stopped", res)
	}
}
