package registry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/registry/regstore"
	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

const seed = `Windows Registry Editor Version 5.00

[\Vendor\Product]
"Port"=dword:00000050
"Name"="fs1"
"Tuned"=dword:00000001

[\Vendor\Product\Sub]
@="x"
`

type fixture struct {
	t    *testing.T
	root string
	h    host.Host
	p    providers.Provider
	hv   cty.Value
}

func newFixture(t *testing.T) *fixture {
	root := t.TempDir()
	f := &fixture{t: t, root: root, h: host.NewLocal("fs1", root), p: sdk.New(New()),
		hv: host.Config{Name: "fs1", Root: root}.Value()}
	t.Cleanup(func() { f.h.Close() })
	f.write("/seed.reg", seed)
	f.invoke("registry_import", map[string]cty.Value{"file": cty.StringVal("/seed.reg"), "create": cty.True})
	return f
}

func (f *fixture) write(path, content string) {
	f.t.Helper()
	if err := f.h.WriteFile(f.t.Context(), path, strings.NewReader(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) read(path string) string {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.root, path))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

// args completes action arguments: the fixture's host and hive, the
// rest null.
func (f *fixture) args(action string, set map[string]cty.Value) cty.Value {
	attrs := map[string]cty.Value{}
	for name, a := range New().Actions[action].Schema.Args.Attributes {
		attrs[name] = cty.NullVal(a.Type)
	}
	attrs["host"] = f.hv
	attrs["hive"] = cty.StringVal("/config/SOFTWARE")
	for k, v := range set {
		attrs[k] = v
	}
	return cty.ObjectVal(attrs)
}

func (f *fixture) invoke(action string, set map[string]cty.Value) cty.Value {
	f.t.Helper()
	resp := f.p.Invoke(f.t.Context(), providers.InvokeRequest{Action: action, Args: f.args(action, set)})
	if resp.Diagnostics.HasErrors() {
		f.t.Fatalf("%s: %v", action, resp.Diagnostics)
	}
	return resp.Result
}

func (f *fixture) invokeErr(action string, set map[string]cty.Value) string {
	f.t.Helper()
	resp := f.p.Invoke(f.t.Context(), providers.InvokeRequest{Action: action, Args: f.args(action, set)})
	if !resp.Diagnostics.HasErrors() {
		f.t.Fatalf("%s succeeded", action)
	}
	return resp.Diagnostics[0].Summary + ": " + resp.Diagnostics[0].Detail
}

func (f *fixture) exportText(key string) string {
	f.t.Helper()
	return f.invoke("registry_export", map[string]cty.Value{"key": cty.StringVal(key)}).GetAttr("content").AsString()
}

func TestImportUndo(t *testing.T) {
	f := newFixture(t)
	before := f.exportText(`\`)
	f.write("/repset/tuning.reg", "Windows Registry Editor Version 5.00\n\n[\\Vendor\\Product]\n\"Port\"=dword:00000051\n\"Name\"=-\n\n[\\Vendor\\New\\Deep]\n\"v\"=\"1\"\n")
	res := f.invoke("registry_import", map[string]cty.Value{"file": cty.StringVal("/repset/tuning.reg")})
	if got := res.GetAttr("undo").AsString(); got != "/repset/tuning.undo.reg" {
		t.Errorf("undo file %s", got)
	}
	undo := f.read("/repset/tuning.undo.reg")
	for _, want := range []string{`[-\Vendor\New]`, `"Port"=dword:00000050`, `"Name"="fs1"`} {
		if !strings.Contains(undo, want+"\n") {
			t.Errorf("the undo file lacks %s:\n%s", want, undo)
		}
	}
	after := f.exportText(`\`)
	if !strings.Contains(after, `"Port"=dword:00000051`) || !strings.Contains(after, `[\Vendor\New\Deep]`) {
		t.Errorf("import did not take:\n%s", after)
	}
	// A second run (a re-run failover) keeps the first undo at the end.
	f.invoke("registry_import", map[string]cty.Value{"file": cty.StringVal("/repset/tuning.reg")})
	f.invoke("registry_import", map[string]cty.Value{"file": cty.StringVal("/repset/tuning.undo.reg"), "undo": cty.StringVal("/failback.undo.reg")})
	if got := f.exportText(`\`); got != before {
		t.Errorf("importing the undo file does not restore the hive:\n%s\nwant\n%s", got, before)
	}
}

func TestImportBadInput(t *testing.T) {
	f := newFixture(t)
	hive := f.read("/config/SOFTWARE")
	for _, tc := range []struct {
		name, content, want string
	}{
		{"syntax", "Windows Registry Editor Version 5.00\n\n[\\Vendor]\n\"a\"=dword:xyz\n",
			`/bad.reg on host "fs1":4: dword:xyz is not a 32-bit number`},
		{"utf-16 big endian", "\xfe\xff\x00W", "UTF-16 big-endian"},
		{"fails half way", "Windows Registry Editor Version 5.00\n\n[\\Vendor]\n\"a\"=dword:1\n\n[HKLM\\x]\n",
			"line 6: the key \"HKLM\\\\x\" of a hive file must start with a backslash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.write("/bad.reg", tc.content)
			if msg := f.invokeErr("registry_import", map[string]cty.Value{"file": cty.StringVal("/bad.reg")}); !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want %q", msg, tc.want)
			}
			if f.read("/config/SOFTWARE") != hive {
				t.Error("a failed import changed the hive file")
			}
			if _, err := os.Stat(filepath.Join(f.root, "bad.undo.reg")); err == nil {
				t.Error("a failed import left an undo file")
			}
		})
	}
	f.write("/not-a-hive", "[boot loader]\r\n")
	msg := f.invokeErr("registry_import", map[string]cty.Value{"file": cty.StringVal("/seed.reg"), "hive": cty.StringVal("/not-a-hive")})
	if !strings.Contains(msg, `hive file /not-a-hive on host "fs1": not a valid registry hive`) {
		t.Errorf("importing into a file that is not a hive: %s", msg)
	}
	if f.read("/not-a-hive") != "[boot loader]\r\n" {
		t.Error("the file that is not a hive changed")
	}
}

func TestDiff(t *testing.T) {
	f := newFixture(t)
	f.write("/cap.reg", "Windows Registry Editor Version 5.00\n\n[\\Vendor\\Product]\n\"Port\"=dword:00000051\n\"Old\"=\"o\"\n\"Name\"=\"fs1\"\n\"Tuned\"=dword:00000001\n\n[\\Vendor\\Gone]\n")
	res := f.invoke("registry_diff", map[string]cty.Value{"key": cty.StringVal(`\Vendor`), "file": cty.StringVal("/cap.reg")})
	var got []string
	for _, c := range res.GetAttr("changes").AsValueSlice() {
		got = append(got, c.AsString())
	}
	want := []string{
		`+ [\Vendor]`,
		`~ [\Vendor\Product] "Port"=dword:00000051 → dword:00000050`,
		`- [\Vendor\Product] "Old"="o"`,
		`+ [\Vendor\Product\Sub]`,
		`+ [\Vendor\Product\Sub] @="x"`,
		`- [\Vendor\Gone]`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func captureConfig(f *fixture, set map[string]cty.Value) cty.Value {
	attrs := map[string]cty.Value{}
	for name, a := range captureSchema().Block.Attributes {
		attrs[name] = cty.NullVal(a.Type)
	}
	attrs["host"] = f.hv
	attrs["hive"] = cty.StringVal("/config/SOFTWARE")
	attrs["prefix"] = cty.StringVal(`HKEY_LOCAL_MACHINE\SOFTWARE`)
	attrs["key"] = cty.StringVal(`\Vendor\Product`)
	attrs["file"] = cty.StringVal("/repset/product.reg")
	for k, v := range set {
		attrs[k] = v
	}
	return cty.ObjectVal(attrs)
}

func (f *fixture) plan(prior, config cty.Value) providers.PlanResponse {
	f.t.Helper()
	resp := f.p.Plan(f.t.Context(), providers.PlanRequest{TypeName: "registry_capture", Prior: prior, Config: config})
	if resp.Diagnostics.HasErrors() {
		f.t.Fatalf("plan: %v", resp.Diagnostics)
	}
	return resp
}

func (f *fixture) apply(prior, planned cty.Value) cty.Value {
	f.t.Helper()
	resp := f.p.Apply(f.t.Context(), providers.ApplyRequest{TypeName: "registry_capture", Prior: prior, Planned: planned})
	if resp.Diagnostics.HasErrors() {
		f.t.Fatalf("apply: %v", resp.Diagnostics)
	}
	return resp.New
}

func TestCapturePlan(t *testing.T) {
	f := newFixture(t)
	config := captureConfig(f, nil)
	none := cty.NullVal(config.Type())
	p := f.plan(none, config)
	if p.Description != `captures 4 values in 2 keys of \Vendor\Product` {
		t.Errorf("create description %q", p.Description)
	}
	state := f.apply(none, p.Planned)
	content := f.read("/repset/product.reg")
	doc, err := regtext.Decode("product.reg", []byte(content))
	if err != nil || doc.Encoding != regtext.UTF16LE || doc.Keys[0].Path != `HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\Product` {
		t.Fatalf("capture file: %v %+v", err, doc)
	}
	if p := f.plan(state, config); !p.Planned.RawEquals(state) || p.Description != "" {
		t.Errorf("an unchanged registry plans a change: %s", p.Description)
	}
	f.write("/change.reg", "Windows Registry Editor Version 5.00\n\n[\\Vendor\\Product]\n\"Port\"=dword:00000051\n\"Name\"=-\n")
	f.invoke("registry_import", map[string]cty.Value{"file": cty.StringVal("/change.reg")})
	p = f.plan(state, config)
	want := `2 values in 1 key differ from the last capture: ~ [HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\Product] "Port"=dword:00000050 → dword:00000051; - [HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\Product] "Name"="fs1"`
	if p.Description != want || p.Planned.GetAttr("sha256").IsKnown() {
		t.Errorf("description %q\nwant        %q", p.Description, want)
	}
	state = f.apply(state, p.Planned)
	if !strings.Contains(f.read("/repset/product.reg"), "\x00\"\x00P\x00o\x00r\x00t\x00\"\x00=\x00d\x00w\x00o\x00r\x00d\x00:\x000\x000\x000\x000\x000\x000\x005\x001\x00") {
		t.Error("the capture file does not hold the new value")
	}
	if p := f.plan(state, config); !p.Planned.RawEquals(state) {
		t.Errorf("plan after apply is not a no-op: %s", p.Description)
	}
}

func TestCaptureBaseline(t *testing.T) {
	f := newFixture(t)
	f.write("/defaults.reg", "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\Product]\n\"Port\"=dword:00000050\n\"Name\"=\"fs1\"\n\"Tuned\"=dword:00000000\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\Product\\Sub]\n@=\"x\"\n")
	config := captureConfig(f, map[string]cty.Value{"baseline": cty.StringVal("/defaults.reg"), "encoding": cty.StringVal("utf-8")})
	none := cty.NullVal(config.Type())
	f.apply(none, f.plan(none, config).Planned)
	want := "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\Product]\n\"Tuned\"=dword:00000001\n\n"
	if got := f.read("/repset/product.reg"); got != want {
		t.Errorf("trimmed capture:\n%s\nwant\n%s", got, want)
	}
	f.write("/defaults.reg", "Windows Registry Editor Version 5.00\n\n[x]\n\"a\"=hex:zz\n")
	resp := f.p.Plan(t.Context(), providers.PlanRequest{TypeName: "registry_capture", Prior: none, Config: config})
	if !resp.Diagnostics.HasErrors() || !strings.Contains(resp.Diagnostics[0].Detail, `/defaults.reg on host "fs1":4: byte 1 of the hex data, "zz"`) {
		t.Errorf("a bad baseline: %v", resp.Diagnostics)
	}
}

func TestCaptureMissingKey(t *testing.T) {
	f := newFixture(t)
	config := captureConfig(f, map[string]cty.Value{"key": cty.StringVal(`\Nope`)})
	resp := f.p.Plan(t.Context(), providers.PlanRequest{TypeName: "registry_capture", Prior: cty.NullVal(config.Type()), Config: config})
	if !resp.Diagnostics.HasErrors() || !strings.Contains(resp.Diagnostics[0].Detail, regstore.ErrNoKey.Error()) {
		t.Errorf("capturing a missing key: %v", resp.Diagnostics)
	}
}
