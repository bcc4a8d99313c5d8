package plan

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

func TestEncodeDecode(t *testing.T) {
	obj := func(in, out cty.Value) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"input": in, "output": out, "id": cty.StringVal("x")})
	}
	res := addrs.Resource{Mode: addrs.Managed, Type: "value", Name: "a"}
	secret := cty.GetAttrPath("input")
	tests := []struct {
		name               string
		change             *Change
		wantAfter          cty.Value
		wantConfigUnknown  bool
		wantBeforeRedacted bool
		moved              []addrs.Move
	}{
		{
			name: "create with unknown",
			change: &Change{Addr: res.Instance(addrs.IntK(2)), Provider: "core", Action: Create,
				Before: cty.NullVal(obj(cty.StringVal(""), cty.StringVal("")).Type()),
				After:  obj(cty.StringVal("a"), cty.UnknownVal(cty.String)), Dependencies: []addrs.Resource{res},
				Timeouts: Timeouts{Create: 2 * time.Hour, Read: 90 * time.Second}},
			wantAfter: obj(cty.StringVal("a"), cty.UnknownVal(cty.String)),
		},
		{
			name: "update with sensitive input",
			change: &Change{Addr: res.Instance(addrs.StrK("k")), Provider: "core", Action: Update,
				Before:         obj(cty.StringVal("old"), cty.StringVal("old")),
				After:          obj(cty.StringVal("new"), cty.StringVal("new")),
				SensitivePaths: []cty.Path{secret}},
			wantAfter:          obj(cty.UnknownVal(cty.String), cty.StringVal("new")),
			wantConfigUnknown:  true,
			wantBeforeRedacted: true,
		},
		{
			name: "moved",
			change: &Change{Addr: res.Instance(addrs.IntK(4)), Provider: "core", Action: NoOp,
				Before: obj(cty.StringVal("a"), cty.StringVal("a")), After: obj(cty.StringVal("a"), cty.StringVal("a")),
				MovedFrom: &addrs.Instance{Resource: addrs.Resource{Mode: addrs.Managed, Type: "value", Name: "old"}}},
			wantAfter: obj(cty.StringVal("a"), cty.StringVal("a")),
			moved:     []addrs.Move{{From: addrs.Instance{Resource: addrs.Resource{Mode: addrs.Managed, Type: "value", Name: "old"}}, To: res.Instance(addrs.IntK(4))}},
		},
		{
			name: "sensitive attribute left null",
			change: &Change{Addr: res.Instance(addrs.IntK(0)), Provider: "core", Action: Update,
				Before:         obj(cty.NullVal(cty.String), cty.StringVal("old")),
				After:          obj(cty.NullVal(cty.String), cty.StringVal("new")),
				SensitivePaths: []cty.Path{secret}},
			wantAfter: obj(cty.NullVal(cty.String), cty.StringVal("new")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plan{Mode: Normal, Lineage: "l", Serial: 3, ConfigHash: "h", Changes: []*Change{tt.change}, Moved: tt.moved,
				Variables: map[string]cty.Value{"plain": cty.StringVal("v"), "secret": cty.StringVal("s").Mark("sensitive")}}
			b, err := Encode(p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			c := got.Changes[0]
			if c.Addr != tt.change.Addr || c.Action != tt.change.Action {
				t.Fatalf("got %s %s", c.Addr, c.Action)
			}
			if !c.After.RawEquals(tt.wantAfter) {
				t.Errorf("after = %#v, want %#v", c.After, tt.wantAfter)
			}
			if c.ConfigUnknown != tt.wantConfigUnknown || c.BeforeRedacted != tt.wantBeforeRedacted {
				t.Errorf("ConfigUnknown=%v BeforeRedacted=%v", c.ConfigUnknown, c.BeforeRedacted)
			}
			if diff := cmp.Diff(tt.moved, got.Moved); diff != "" {
				t.Errorf("moved: %s", diff)
			}
			if diff := cmp.Diff(tt.change.MovedFrom, c.MovedFrom); diff != "" {
				t.Errorf("moved from: %s", diff)
			}
			if c.Timeouts != tt.change.Timeouts {
				t.Errorf("timeouts %+v, want %+v", c.Timeouts, tt.change.Timeouts)
			}
			if diff := cmp.Diff(tt.change.Dependencies, c.Dependencies); diff != "" {
				t.Errorf("dependencies: %s", diff)
			}
			if !got.Variables["plain"].RawEquals(cty.StringVal("v")) {
				t.Errorf("plain variable lost")
			}
			if got.SensitiveVariables["secret"] != VariableHash(cty.StringVal("s")) {
				t.Errorf("sensitive variable hash = %q", got.SensitiveVariables["secret"])
			}
			if _, ok := got.Variables["secret"]; ok {
				t.Errorf("sensitive variable value saved")
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"garbage":        "{",
		"future version": `{"format_version": 99}`,
		"bad action":     `{"format_version":1,"resource_changes":[{"address":"value.a","action":"explode"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode([]byte(doc)); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

// FuzzDecode feeds plan documents, which users pass to apply and show, to
// the decoder: it must return a plan or an error, never panic, and a plan
// it returns must encode again.
func FuzzDecode(f *testing.F) {
	res := addrs.Resource{Mode: addrs.Managed, Type: "value", Name: "a"}
	p := &Plan{Mode: Normal, Lineage: "l", Serial: 1, ConfigHash: "h", Changes: []*Change{{
		Addr: res.Instance(addrs.Key{}), Provider: "core", Action: Create,
		Before:   cty.NullVal(cty.Object(map[string]cty.Type{"input": cty.String})),
		After:    cty.ObjectVal(map[string]cty.Value{"input": cty.UnknownVal(cty.String)}),
		Timeouts: Timeouts{Delete: time.Minute},
	}}}
	seed, err := Encode(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"format_version":"1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decode(b)
		if err != nil {
			return
		}
		if _, err := Encode(got); err != nil {
			t.Fatalf("a decoded plan does not encode: %v", err)
		}
	})
}

// TestDecodeWithoutRedactedPaths reads a document from before values
// listed their redacted parts: every sensitive path counts as redacted.
func TestDecodeWithoutRedactedPaths(t *testing.T) {
	v := cty.ObjectVal(map[string]cty.Value{"input": cty.NullVal(cty.String), "id": cty.StringVal("x")})
	addr := addrs.Resource{Mode: addrs.Managed, Type: "value", Name: "a"}.Instance(addrs.Key{})
	b, err := Encode(&Plan{Mode: Normal, Changes: []*Change{{Addr: addr, Provider: "core", Action: Update,
		Before: v, After: v, SensitivePaths: []cty.Path{cty.GetAttrPath("input")}}}})
	if err != nil {
		t.Fatal(err)
	}
	old := regexp.MustCompile(`,\s*"redacted_paths": \[\]`).ReplaceAll(b, nil)
	if bytes.Equal(old, b) {
		t.Fatal("the document lists no redacted paths to strip")
	}
	p, err := Decode(old)
	if err != nil {
		t.Fatal(err)
	}
	if after := p.Changes[0].After; after.GetAttr("input").IsKnown() {
		t.Fatalf("a sensitive path of an old document was not taken as redacted: %#v", after)
	}
}

func TestEncodeDecodeForgotten(t *testing.T) {
	gone := addrs.Resource{Mode: addrs.Managed, Type: "file", Name: "backup"}.Instance(addrs.IntK(1))
	b, err := Encode(&Plan{Mode: Normal, Forgotten: []addrs.Instance{gone}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Forgotten) != 1 || p.Forgotten[0] != gone || !p.HasChanges() || p.Counts().Forget != 1 {
		t.Fatalf("forgotten %v", p.Forgotten)
	}
}
