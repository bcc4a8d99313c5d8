package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

func TestLoadDesignExample(t *testing.T) {
	cfg := loadTestConfig(t, "testdata/load/design")

	d := cfg.Drover
	if d == nil || d.RequiredVersion != ">= 0.1" || d.Backend == nil || d.Backend.Type != "local" {
		t.Fatalf("drover block: %+v", d)
	}
	if p := d.RequiredProviders["disk"]; p == nil || p.Source != "drover/disk" || p.Version != "1.0.0" {
		t.Fatalf("required_providers: %+v", p)
	}
	if len(cfg.Hosts) != 2 || cfg.Hosts["fs2"] == nil {
		t.Fatalf("hosts: %v", cfg.Hosts)
	}
	q := cfg.Variables["quiesce"]
	if q == nil || q.Type != cty.String || !q.Default.RawEquals(cty.StringVal("5s")) || len(q.Validations) != 1 || q.Description != "Quiet time before a copy." {
		t.Fatalf("variable quiesce: %+v", q)
	}
	if disks := cfg.Variables["disks"]; disks == nil || !disks.Type.Equals(cty.Map(cty.String)) {
		t.Fatalf("variable disks from JSON: %+v", disks)
	}
	if cfg.Locals["replica"] == nil || cfg.Outputs["replica"] == nil {
		t.Fatal("local or output missing")
	}

	dpsr := cfg.Resources[res("drive_copy", "dpsr")]
	if dpsr == nil || !dpsr.Lifecycle.PreventDestroy || len(dpsr.Lifecycle.IgnoreChanges) != 2 {
		t.Fatalf("drive_copy.dpsr: %+v", dpsr)
	}
	if want := (Timeouts{Create: 2 * time.Hour, Update: 30 * time.Minute}); dpsr.Timeouts != want {
		t.Fatalf("drive_copy.dpsr timeouts: %+v, want %+v", dpsr.Timeouts, want)
	}
	if rs := cfg.Resources[res("replication_set", "repset")]; len(rs.DependsOn) != 1 {
		t.Fatalf("replication_set.repset depends_on: %v", rs.DependsOn)
	}
	spare := cfg.Resources[res("drive", "spare")]
	if spare == nil || spare.ForEach == nil || len(spare.DependsOn) != 1 || !spare.Lifecycle.CreateBeforeDestroy {
		t.Fatalf("drive.spare from JSON: %+v", spare)
	}

	rb := cfg.Runbooks["failover"]
	if rb == nil || rb.RPO == nil || rb.RTO == nil || rb.Trigger == nil || rb.Drill == nil || len(rb.Steps) != 5 {
		t.Fatalf("runbook: %+v", rb)
	}
	if boot := rb.Steps["boot"]; boot.SetDefault == nil || boot.Reboot == nil || len(boot.After) != 1 {
		t.Fatalf("step boot: %+v", boot)
	}
	if id := rb.Steps["identity"]; id.Resources[res("network_identity", "fs1")] == nil {
		t.Fatalf("step identity: %+v", id)
	}
	if reg := rb.Steps["registry"]; len(reg.After) != 1 || reg.After[0].Name != "pre" {
		t.Fatalf("step registry: %+v", reg)
	}
}

// TestResourceConfigHidesMetaArguments decodes resource bodies with a
// provider-like spec: meta-arguments and lifecycle must not show up as
// unsupported, and JSON bodies evaluate like native ones.
func TestResourceConfigHidesMetaArguments(t *testing.T) {
	cfg := loadTestConfig(t, "testdata/load/design")
	data := &testData{
		vars:  map[string]cty.Value{"quiesce": cty.StringVal("5s"), "disks": cty.MapVal(map[string]cty.Value{"a": cty.StringVal("/dev/sdc")})},
		hosts: map[string]cty.Value{"fs1": cty.StringVal("fs1"), "fs2": cty.StringVal("fs2")},
	}
	dpsrSpec := hcldec.ObjectSpec{}
	for _, n := range []string{"host", "source", "target", "partitions", "verify", "quiesce"} {
		dpsrSpec[n] = &hcldec.AttrSpec{Name: n, Type: cty.DynamicPseudoType}
	}
	val, diags := (&Scope{Data: data}).EvalBody(cfg.Resources[res("drive_copy", "dpsr")].Config, dpsrSpec)
	if diags.HasErrors() {
		t.Fatal(diagsText(diags))
	}
	if !val.GetAttr("quiesce").RawEquals(cty.StringVal("5s")) {
		t.Fatalf("got %#v", val)
	}

	spare := cfg.Resources[res("drive", "spare")]
	keys, diags := (&Scope{Data: data}).EvalForEach(spare.ForEach)
	if diags.HasErrors() || len(keys) != 1 {
		t.Fatalf("for_each: %v %s", keys, diagsText(diags))
	}
	spareSpec := hcldec.ObjectSpec{
		"host": &hcldec.AttrSpec{Name: "host", Type: cty.String},
		"path": &hcldec.AttrSpec{Name: "path", Type: cty.String},
	}
	inst := Instance{Key: addrs.StrK("a"), EachValue: keys["a"]}
	val, diags = (&Scope{Data: data, Instance: inst}).EvalBody(spare.Config, spareSpec)
	if diags.HasErrors() {
		t.Fatal(diagsText(diags))
	}
	if !val.GetAttr("path").RawEquals(cty.StringVal("/dev/sdc")) || !val.GetAttr("host").RawEquals(cty.StringVal("fs2")) {
		t.Fatalf("got %#v", val)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConfigHash(t *testing.T) {
	tmp := t.TempDir()
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "elsewhere", "b")
	copyDir(t, "testdata/load/design", a)
	copyDir(t, "testdata/load/design", b)
	hash := func(dir string) string {
		t.Helper()
		return loadTestConfig(t, dir).Hash()
	}
	base := hash(a)
	if len(base) != 64 || strings.Trim(base, "0123456789abcdef") != "" {
		t.Fatalf("hash %q is not hex SHA-256", base)
	}
	if got := hash(b); got != base {
		t.Fatal("the same files in another folder hash differently")
	}
	if got := hash("testdata/load/design"); got != base {
		t.Fatal("a relative folder path hashes differently")
	}
	if err := os.WriteFile(filepath.Join(b, "runbook.dr.hcl"), []byte("# changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := hash(b); got == base {
		t.Fatal("changed content, same hash")
	}
	if err := os.Rename(filepath.Join(a, "runbook.dr.hcl"), filepath.Join(a, "steps.dr.hcl")); err != nil {
		t.Fatal(err)
	}
	if got := hash(a); got == base {
		t.Fatal("renamed file, same hash")
	}
}

func TestLoadDirIgnoresOtherFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.dr.hcl":        `host "a" {}`,
		"b.tf":            `this is not read {`,
		"notes.hcl":       `neither {`,
		"sub/c.dr.hcl":    `not { recursive`,
		"d.dr.json":       `{"host": {"d": {}}}`,
		"vars.drvars.hcl": `x = 1`,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := loadTestConfig(t, dir)
	if len(cfg.Files) != 2 || len(cfg.Hosts) != 2 {
		t.Fatalf("read %d files, %d hosts", len(cfg.Files), len(cfg.Hosts))
	}
}

func TestLoadDirMissingFolder(t *testing.T) {
	cfg, diags := LoadDir(filepath.Join(t.TempDir(), "nope"))
	if cfg == nil || !diags.HasErrors() || diags[0].Summary != "Cannot read configuration folder" {
		t.Fatalf("got %v", diags)
	}
}

func TestFormatFile(t *testing.T) {
	tests := []struct {
		name        string
		file, src   string
		want        string
		wantChanged bool
		wantErr     bool
	}{
		{name: "canonical", file: "a.dr.hcl", src: "a   = 1\nbcd = 2\n", want: "a   = 1\nbcd = 2\n"},
		{name: "aligns", file: "a.dr.hcl", src: "host \"x\" {\naddress=\"a\"\n   port = 22\n}\n", want: "host \"x\" {\n  address = \"a\"\n  port    = 22\n}\n", wantChanged: true},
		{name: "syntax error kept", file: "a.dr.hcl", src: "host {\n", want: "host {\n", wantErr: true},
		{name: "json untouched", file: "a.dr.json", src: `{"host":{"x":{}}}`, want: `{"host":{"x":{}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, diags := FormatFile(tt.file, []byte(tt.src))
			if diags.HasErrors() != tt.wantErr {
				t.Fatalf("diags: %v", diags)
			}
			if string(got) != tt.want || changed != tt.wantChanged {
				t.Fatalf("got %q changed=%v, want %q changed=%v", got, changed, tt.want, tt.wantChanged)
			}
		})
	}
	if got := string(Format([]byte("a=1\n"))); got != "a = 1\n" {
		t.Fatalf("Format: %q", got)
	}
}

func TestLoadJSONSyntax(t *testing.T) {
	cfg := loadTestConfig(t, "testdata/load/json_full")
	if cfg.Drover == nil || cfg.Drover.Backend.Type != "local" || cfg.Hosts["fs2"] == nil {
		t.Fatalf("drover or host: %+v", cfg.Drover)
	}
	if v := cfg.Variables["n"]; v == nil || v.Type != cty.Number || !v.Sensitive || !v.Default.RawEquals(cty.NumberIntVal(2)) {
		t.Fatalf("variable: %+v", v)
	}
	x := cfg.Resources[res("value", "x")]
	if x == nil || x.Count == nil || x.Provider != "value" || !x.Lifecycle.IgnoreAllChanges || !x.Lifecycle.PreventDestroy {
		t.Fatalf("resource: %+v", x)
	}
	if cfg.Resources[addrs.Resource{Mode: addrs.Data, Type: "value", Name: "y"}] == nil {
		t.Fatal("data source missing")
	}
	if o := cfg.Outputs["o"]; o == nil || len(o.DependsOn) != 1 {
		t.Fatalf("output: %+v", o)
	}
	rb := cfg.Runbooks["failover"]
	if rb == nil || len(rb.Steps) != 3 || len(rb.Steps["post"].After) != 1 || rb.Steps["hold"].Resources[res("value", "held")] == nil {
		t.Fatalf("runbook: %+v", rb)
	}
	vars, diags := FinalizeVariables(cfg, nil)
	if diags.HasErrors() {
		t.Fatal(diagsText(diags))
	}
	scope := &Scope{Data: &testData{vars: vars}}
	n, diags := scope.EvalCount(x.Count)
	if !diags.HasErrors() || !strings.Contains(diagsText(diags), "Sensitive values") {
		t.Fatalf("count from a sensitive variable: %d %v", n, diags)
	}
	refs, diags := ExprRefs(cfg.Locals["name"].Expr)
	if diags.HasErrors() || len(refs) != 1 || refs[0].Name != "n" {
		t.Fatalf("refs of a JSON template: %+v %v", refs, diags)
	}
}
