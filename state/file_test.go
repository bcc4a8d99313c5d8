package state

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/addrs"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// cmpState compares states; cty values and paths compare by their own
// equality.
var cmpState = cmp.Options{
	cmp.Comparer(func(a, b cty.Value) bool { return a.RawEquals(b) }),
	cmp.Comparer(func(a, b cty.Path) bool { return a.Equals(b) }),
}

var (
	diskRes = addrs.Resource{Mode: addrs.Managed, Type: "drive_copy", Name: "dpsr"}
	dnsRes  = addrs.Resource{Mode: addrs.Managed, Type: "dns_record", Name: "www"}
	hostRes = addrs.Resource{Mode: addrs.Data, Type: "host", Name: "self"}
)

// smallState is the state behind testdata/small.json.
func smallState() *State {
	s := &State{Lineage: "0b5e8f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b", Serial: 7,
		Instances: map[addrs.Instance]*Instance{}, Outputs: map[string]Output{}}
	s.Set(&Instance{
		Addr: diskRes.Instance(addrs.Key{}), Provider: "disk", SchemaVersion: 2, Status: Ready,
		Attrs: cty.ObjectVal(map[string]cty.Value{
			"source":  cty.StringVal("/dev/sda"),
			"target":  cty.StringVal("/srv/replica/sda.img"),
			"blocks":  cty.NumberIntVal(3412),
			"verify":  cty.True,
			"exclude": cty.ListVal([]cty.Value{cty.StringVal("swap")}),
			"options": cty.MapVal(map[string]cty.Value{"owner": cty.StringVal("ops"), "passphrase": cty.StringVal("hunter2")}),
		}),
		Private:        []byte{0, 1, 2, 0xfe},
		SensitivePaths: []cty.Path{cty.GetAttrPath("options").Index(cty.StringVal("passphrase"))},
		Dependencies:   []addrs.Resource{hostRes},
	})
	for i, ip := range []string{"192.0.2.10", "192.0.2.11"} {
		s.Set(&Instance{
			Addr: dnsRes.Instance(addrs.IntK(i)), Provider: "network", Status: Ready,
			Attrs: cty.ObjectVal(map[string]cty.Value{
				"name": cty.StringVal("www.example.test."), "address": cty.StringVal(ip), "ttl": cty.NumberIntVal(60),
			}),
			Dependencies:        []addrs.Resource{hostRes, diskRes},
			CreateBeforeDestroy: true,
		})
	}
	s.Instances[dnsRes.Instance(addrs.IntK(1))].Status = Tainted
	s.Set(&Instance{
		Addr: hostRes.Instance(addrs.Key{}), Provider: "core", Status: Ready,
		Attrs: cty.ObjectVal(map[string]cty.Value{"hostname": cty.StringVal("dr-1"), "note": cty.NullVal(cty.String)}),
	})
	s.Set(&Instance{
		Addr:     addrs.Resource{Mode: addrs.Managed, Type: "share", Name: "data"}.Instance(addrs.StrK("finance \"Q3\"")),
		Provider: "network", Status: Pending,
		Attrs: cty.ObjectVal(map[string]cty.Value{"path": cty.StringVal("/srv/finance")}),
	})
	s.SetOutput("www_addresses", Output{Value: cty.TupleVal([]cty.Value{cty.StringVal("192.0.2.10"), cty.StringVal("192.0.2.11")})})
	s.SetOutput("passphrase", Output{Value: cty.StringVal("hunter2"), Sensitive: true})
	return s
}

func TestMarshalGolden(t *testing.T) {
	got, err := Marshal(smallState())
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "small.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./state -run TestMarshalGolden -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("canonical JSON differs from %s (-want +got):\n%s", golden, diff)
	}
	// The golden file reads back to the same state.
	back, err := Unmarshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(smallState(), back, cmpState); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
}

func TestRoundTrip(t *testing.T) {
	addr := diskRes.Instance(addrs.IntK(3))
	tests := []struct {
		name  string
		inst  *Instance
		paths []cty.Path // sensitive paths as they read back, when different
	}{
		{name: "empty object", inst: &Instance{Addr: addr, Status: Ready, Attrs: cty.EmptyObjectVal}},
		{name: "null object", inst: &Instance{Addr: addr, Status: Tainted,
			Attrs: cty.NullVal(cty.Object(map[string]cty.Type{"a": cty.String}))}},
		{name: "nested collections", inst: &Instance{Addr: addr, Status: Ready, Attrs: cty.ObjectVal(map[string]cty.Value{
			"disks": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{
				"size": cty.NumberIntVal(1 << 40), "tags": cty.SetVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
			})}),
			"ratio":  cty.NumberFloatVal(0.125),
			"huge":   cty.MustParseNumberVal("123456789012345678901234567890"),
			"vast":   cty.MustParseNumberVal("1e1000"),
			"tiny":   cty.MustParseNumberVal("-1.5e-1000"),
			"labels": cty.MapValEmpty(cty.String),
			"any":    cty.NullVal(cty.DynamicPseudoType),
			"text":   cty.StringVal("tab\there \"quoted\" \u2028 < & > é \x01"),
		})}},
		{name: "sensitive paths are sorted and deduplicated", inst: &Instance{Addr: addr, Status: Ready,
			Attrs:          cty.ObjectVal(map[string]cty.Value{"b": cty.StringVal("x"), "a": cty.ListVal([]cty.Value{cty.StringVal("y")})}),
			SensitivePaths: []cty.Path{cty.GetAttrPath("b"), cty.GetAttrPath("a").IndexInt(0), cty.GetAttrPath("b")}},
			paths: []cty.Path{cty.GetAttrPath("a").IndexInt(0), cty.GetAttrPath("b")}},
		{name: "a path into a set covers the set", inst: &Instance{Addr: addr, Status: Ready,
			Attrs:          cty.ObjectVal(map[string]cty.Value{"s": cty.SetVal([]cty.Value{cty.StringVal("x")})}),
			SensitivePaths: []cty.Path{cty.GetAttrPath("s").Index(cty.ObjectVal(map[string]cty.Value{"k": cty.True}))}},
			paths: []cty.Path{cty.GetAttrPath("s")}},
		{name: "whole value sensitive", inst: &Instance{Addr: addr, Status: Ready, Attrs: cty.EmptyObjectVal,
			SensitivePaths: []cty.Path{{}}}},
		{name: "dependencies are sorted and deduplicated", inst: &Instance{Addr: hostRes.Instance(addrs.StrK("")), Status: Pending,
			Attrs: cty.EmptyObjectVal, Dependencies: []addrs.Resource{hostRes, dnsRes, hostRes}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &State{Lineage: "l", Serial: 1, Instances: map[addrs.Instance]*Instance{}, Outputs: map[string]Output{}}
			s.Set(tt.inst)
			b, err := Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Unmarshal(b)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			want := s.DeepCopy()
			wi := want.Instances[tt.inst.Addr]
			if tt.paths != nil {
				wi.SensitivePaths = tt.paths
			}
			if len(wi.Dependencies) > 0 {
				wi.Dependencies = []addrs.Resource{hostRes, dnsRes}
			}
			if len(wi.Private) == 0 {
				wi.Private = nil
			}
			if diff := cmp.Diff(want, got, cmpState); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, b)
			}
			again, err := Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, again) {
				t.Errorf("not canonical: second write differs:\n%s\n%s", b, again)
			}
		})
	}
}

func TestMarshalRejects(t *testing.T) {
	addr := diskRes.Instance(addrs.IntK(0))
	inst := func(v cty.Value) *State {
		s := &State{Lineage: "l", Instances: map[addrs.Instance]*Instance{}}
		s.Set(&Instance{Addr: addr, Status: Ready, Attrs: v})
		return s
	}
	tests := []struct {
		name  string
		state *State
		want  string
	}{
		{"nil state", nil, "no state"},
		{"no lineage", &State{}, "no lineage"},
		{"unknown attribute", inst(cty.ObjectVal(map[string]cty.Value{"id": cty.UnknownVal(cty.String)})),
			"drive_copy.dpsr[0]: attribute id: value is not known"},
		{"unknown nested", inst(cty.ObjectVal(map[string]cty.Value{"l": cty.ListVal([]cty.Value{cty.UnknownVal(cty.String)})})),
			"drive_copy.dpsr[0]: attribute l[0]: value is not known"},
		{"wholly unknown", inst(cty.UnknownVal(cty.EmptyObject)), "drive_copy.dpsr[0]: value is not known"},
		{"marked", inst(cty.ObjectVal(map[string]cty.Value{"p": cty.StringVal("x").Mark("sensitive")})),
			"drive_copy.dpsr[0]: attribute p: value has marks"},
		{"no attributes", inst(cty.NilVal), "drive_copy.dpsr[0] has no attributes"},
		{"bad status", &State{Lineage: "l", Instances: map[addrs.Instance]*Instance{addr: {Addr: addr, Attrs: cty.EmptyObjectVal}}},
			`drive_copy.dpsr[0]: status "" is not ready`},
		{"misfiled", &State{Lineage: "l", Instances: map[addrs.Instance]*Instance{addr: {Addr: hostRes.Instance(addrs.Key{}), Status: Ready, Attrs: cty.EmptyObjectVal}}},
			"data.host.self is stored under the address drive_copy.dpsr[0]"},
		{"infinity", inst(cty.ObjectVal(map[string]cty.Value{"n": cty.PositiveInfinity})), "attribute n: cannot store infinity"},
		{"vast number", inst(cty.ObjectVal(map[string]cty.Value{"n": cty.MustParseNumberVal("1e10000")})), "attribute n: number 1e+10000 is too large"},
		{"unknown output", &State{Lineage: "l", Outputs: map[string]Output{"ip": {Value: cty.UnknownVal(cty.String)}}},
			`output "ip": value is not known`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Marshal(tt.state)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestUnmarshalRejects(t *testing.T) {
	const inst = `{"address":"value.x[0]","mode":"managed","type":"value","name":"x","index":0,"status":"ready","attributes":{"type":"string","value":"a"}%s}`
	doc := func(resources ...string) string {
		return `{"format_version":1,"lineage":"l","serial":1,"resources":[` + strings.Join(resources, ",") + `],"outputs":{}}`
	}
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "", "not a Drover state document"},
		{"garbage", "\x00\xff{", "not a Drover state document"},
		{"array", "[1,2]", "not a Drover state document"},
		{"no version", `{"lineage":"l"}`, "has no format_version"},
		{"future version", `{"format_version":2,"lineage":"l"}`, "state format version 2 is not supported: this Drover reads version 1"},
		{"future layout", `{"format_version":3,"lineage":{"id":"l"},"resources":{}}`, "state format version 3 is not supported"},
		{"no lineage", `{"format_version":1}`, "no lineage"},
		{"wrong field type", `{"format_version":1,"lineage":"l","serial":"7"}`, "not a Drover state document"},
		{"bad mode", doc(`{"address":"value","status":"ready"}`), `resource "value": mode "" is not managed or data`},
		{"bad name", doc(`{"address":"value.x y","mode":"managed","type":"value","name":"x y"}`), "must be identifiers"},
		{"index does not match", doc(strings.Replace(fmt.Sprintf(inst, ""), `"index":0`, `"index":1`, 1)), "do not match the address"},
		{"mode does not match", doc(strings.Replace(fmt.Sprintf(inst, ""), `managed`, `data`, 1)), "do not match the address"},
		{"address does not match", doc(strings.Replace(fmt.Sprintf(inst, ""), `value.x[0]`, `value.y[0]`, 1)), `resource "value.y[0]": mode "managed", type "value", name "x" and index 0 do not match the address`},
		{"negative index", doc(strings.Replace(fmt.Sprintf(inst, ""), `"index":0`, `"index":-1`, 1)), "not a whole number"},
		{"duplicate", doc(fmt.Sprintf(inst, ""), fmt.Sprintf(inst, "")), "value.x[0] appears twice"},
		{"bad status", doc(strings.Replace(fmt.Sprintf(inst, ""), `ready`, `gone`, 1)), `status "gone"`},
		{"no attributes", doc(`{"address":"value.x","mode":"managed","type":"value","name":"x","status":"ready"}`), "value.x has no attributes"},
		{"attributes without type", doc(strings.Replace(fmt.Sprintf(inst, ""), `"type":"string",`, ``, 1)), `needs a "type"`},
		{"trailing data", `{"format_version":1,"lineage":"l"} {}`, "not a Drover state document"},
		{"attribute not in type", doc(strings.Replace(fmt.Sprintf(inst, ""), `"type":"string","value":"a"`, `"type":["object",{"a":"string"}],"value":{"b":"x"}`, 1)), `unsupported attribute "b"`},
		{"nested mismatch", doc(strings.Replace(fmt.Sprintf(inst, ""), `"type":"string","value":"a"`, `"type":["object",{"a":["list","number"]}],"value":{"a":[1,"x"]}`, 1)), `value.x[0]: attributes: value at a[1]: a string is not a number`},
		{"short tuple", doc(strings.Replace(fmt.Sprintf(inst, ""), `"type":"string","value":"a"`, `"type":["tuple",["number","number"]],"value":[1]`, 1)), `1 elements for a tuple of 2`},
		{"bad type", doc(strings.Replace(fmt.Sprintf(inst, ""), `"string"`, `"strung"`, 1)), "value.x[0]: attributes: type"},
		{"value does not fit type", doc(strings.Replace(fmt.Sprintf(inst, ""), `"a"`, `{}`, 1)), "value.x[0]: attributes: value"},
		{"bad private", doc(fmt.Sprintf(inst, `,"private":"!!"`)), "not base64"},
		{"bad path step", doc(fmt.Sprintf(inst, `,"sensitive_paths":[[true]]`)), "sensitive path"},
		{"negative path index", doc(fmt.Sprintf(inst, `,"sensitive_paths":[[-1]]`)), "sensitive path"},
		{"path not an array", doc(fmt.Sprintf(inst, `,"sensitive_paths":["a"]`)), "sensitive path"},
		{"bad dependency", doc(fmt.Sprintf(inst, `,"dependencies":["value.y[1]"]`)), "dependency"},
		{"vast number", `{"format_version":1,"lineage":"l","outputs":{"o":{"type":"number","value":1e1000000000}}}`, `output "o": value: cannot store infinity`},
		{"large number", `{"format_version":1,"lineage":"l","outputs":{"o":{"type":"number","value":-1e100000}}}`, `output "o": value: number -1e+100000 is too large or too small`},
		{"bad output", `{"format_version":1,"lineage":"l","outputs":{"o":{"type":"number","value":"x"}}}`, `output "o"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unmarshal([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func FuzzUnmarshal(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "small.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(`{"format_version":1,"lineage":"l","serial":1,"resources":[],"outputs":{}}`))
	f.Add([]byte(`{"format_version":1,"lineage":"l","resources":[{"address":"a.b[\"k\"]","mode":"managed","type":"a","name":"b","index":"k","status":"ready","attributes":{"type":["object",{"x":["set","dynamic"]}],"value":{"x":[{"type":"number","value":1}]}},"sensitive_paths":[["x"],[{"key":"k"},0]]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Unmarshal(b)
		if err != nil {
			return
		}
		// Whatever reads must write, and read back to the same canonical bytes.
		out, err := Marshal(s)
		if err != nil {
			t.Fatalf("read a state it cannot write: %v", err)
		}
		back, err := Unmarshal(out)
		if err != nil {
			t.Fatalf("cannot read its own output: %v\n%s", err, out)
		}
		again, err := Marshal(back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("not canonical:\n%s\n%s", out, again)
		}
	})
}

// manyInstances is a state of n small instances spread over resources
// of a few types, like a large inventory.
func manyInstances(n int) *State {
	s := New()
	for i := range n {
		r := addrs.Resource{Mode: addrs.Managed, Type: []string{"drive_copy", "dns_record", "share"}[i%3], Name: fmt.Sprintf("r%d", i/100)}
		s.Set(&Instance{Addr: r.Instance(addrs.IntK(i % 100)), Provider: "disk", Status: Ready,
			Attrs: cty.ObjectVal(map[string]cty.Value{
				"id":   cty.StringVal(fmt.Sprintf("id-%06d", i)),
				"size": cty.NumberIntVal(int64(i) * 4096),
				"on":   cty.True,
			}),
			Dependencies: []addrs.Resource{{Mode: addrs.Managed, Type: "drive_copy", Name: "r0"}},
		})
	}
	return s
}

func BenchmarkMarshal10k(b *testing.B) {
	s := manyInstances(10_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal10k(b *testing.B) {
	data, err := Marshal(manyInstances(10_000))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
}
