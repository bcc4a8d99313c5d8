package host

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestConfigValueRoundTrip(t *testing.T) {
	tests := []Config{
		{Name: "fs1", Transport: "local"},
		{Name: "fs1", Transport: "local", Root: "sim/fs1"},
		{Name: "fs1", Transport: "local", Netns: "fs1"},
		{Name: "fs2", Transport: "ssh", Address: "fs2.example.net", User: "root", Port: 2222},
	}
	for _, c := range tests {
		t.Run(c.Name+"/"+c.Transport, func(t *testing.T) {
			v := c.Value()
			if !v.Type().Equals(Type) {
				t.Fatalf("type %s, want host.Type", v.Type().FriendlyName())
			}
			got, err := ConfigFromValue(v)
			if err != nil {
				t.Fatal(err)
			}
			if got != c {
				t.Errorf("round trip gave %+v, want %+v", got, c)
			}
		})
	}
	if v := (Config{Name: "x"}).Value(); v.GetAttr("transport").AsString() != "local" || !v.GetAttr("root").IsNull() {
		t.Errorf("defaults: %#v", v)
	}
}

func TestFromValue(t *testing.T) {
	root := filepath.Join(t.TempDir(), "r")
	obj := func(attrs map[string]cty.Value) cty.Value { return cty.ObjectVal(attrs) }
	tests := []struct {
		name    string
		v       cty.Value
		wantErr string
	}{
		{"local rooted", Config{Name: "fs1", Root: root}.Value(), ""},
		{"empty transport", obj(map[string]cty.Value{"name": cty.StringVal("a"), "transport": cty.StringVal(""), "root": cty.StringVal(root)}), ""},
		{"only a name", obj(map[string]cty.Value{"name": cty.StringVal("a")}), ""},
		{"ssh", Config{Name: "fs2", Transport: "ssh", Address: "x"}.Value(), "ssh transport is not available yet"},
		{"local with an address", Config{Name: "fs1", Address: "10.0.0.5"}.Value(), `host "fs1" names an address, but only the local machine`},
		{"explicit local with an address", Config{Name: "fs1", Transport: "local", Address: "10.0.0.5", Root: root}.Value(), "names an address"},
		{"unknown transport", Config{Name: "fs2", Transport: "carrier-pigeon"}.Value(), `unknown transport "carrier-pigeon"`},
		{"null", cty.NullVal(Type), "no host given"},
		{"unknown", cty.UnknownVal(Type), "not known until apply"},
		{"string", cty.StringVal("fs1"), "must be an object"},
		{"no name", obj(map[string]cty.Value{"root": cty.StringVal(root)}), "no name"},
		{"bad port", obj(map[string]cty.Value{"name": cty.StringVal("a"), "port": cty.NumberFloatVal(1.5)}), "not a port number"},
		{"port as string", obj(map[string]cty.Value{"name": cty.StringVal("a"), "port": cty.StringVal("22")}), "port must be a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := FromValue(tt.v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if _, err := h.ReadDir(context.Background(), "/"); err != nil {
				t.Errorf("the host does not work: %v", err)
			}
		})
	}
}
