package core

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

var fileType = fileSchema.Block.ImpliedType()

// fileConfig is a file configuration as the decoder gives it.
func fileConfig(h cty.Value, path string, attrs map[string]cty.Value) cty.Value {
	m := map[string]cty.Value{}
	for name, ty := range fileType.AttributeTypes() {
		m[name] = cty.NullVal(ty)
	}
	m["host"], m["path"] = h, cty.StringVal(path)
	for k, v := range attrs {
		m[k] = v
	}
	return cty.ObjectVal(m)
}

type fileEnv struct {
	t    *testing.T
	ctx  context.Context
	p    providers.Provider
	root string
	host cty.Value
}

func newFileEnv(t *testing.T) *fileEnv {
	root := filepath.Join(t.TempDir(), "fs1")
	return &fileEnv{t: t, ctx: t.Context(), p: sdk.New(New()), root: root, host: host.Config{Name: "fs1", Root: root}.Value()}
}

func (e *fileEnv) plan(prior, config cty.Value) providers.PlanResponse {
	e.t.Helper()
	resp := e.p.Plan(e.ctx, providers.PlanRequest{TypeName: "file", Prior: prior, Config: config})
	if resp.Diagnostics.HasErrors() {
		e.t.Fatalf("plan: %v", resp.Diagnostics)
	}
	return resp
}

func (e *fileEnv) apply(prior, planned cty.Value) cty.Value {
	e.t.Helper()
	resp := e.p.Apply(e.ctx, providers.ApplyRequest{TypeName: "file", Prior: prior, Planned: planned})
	if resp.Diagnostics.HasErrors() {
		e.t.Fatalf("apply: %v", resp.Diagnostics)
	}
	return resp.New
}

func (e *fileEnv) read(state cty.Value) cty.Value {
	e.t.Helper()
	resp := e.p.Read(e.ctx, providers.ReadRequest{TypeName: "file", Prior: state})
	if resp.Diagnostics.HasErrors() {
		e.t.Fatalf("read: %v", resp.Diagnostics)
	}
	return resp.New
}

func (e *fileEnv) create(config cty.Value) cty.Value {
	e.t.Helper()
	none := cty.NullVal(fileType)
	return e.apply(none, e.plan(none, config).Planned)
}

func (e *fileEnv) real(path string) string { return filepath.Join(e.root, path) }

func TestFilePlanKnowsChecksum(t *testing.T) {
	e := newFileEnv(t)
	resp := e.plan(cty.NullVal(fileType), fileConfig(e.host, "/etc/motd", map[string]cty.Value{"content": cty.StringVal("hello\n")}))
	want := map[string]cty.Value{
		"sha256": cty.StringVal("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"),
		"size":   cty.NumberIntVal(6),
		"mode":   cty.StringVal("0644"),
		"id":     cty.StringVal("fs1:/etc/motd"),
	}
	for name, v := range want {
		if got := resp.Planned.GetAttr(name); !got.RawEquals(v) {
			t.Errorf("%s planned as %#v, want %#v", name, got, v)
		}
	}
	unknown := e.plan(cty.NullVal(fileType), fileConfig(e.host, "/etc/motd", map[string]cty.Value{"content": cty.UnknownVal(cty.String)}))
	if unknown.Planned.GetAttr("sha256").IsKnown() || unknown.Planned.GetAttr("size").IsKnown() {
		t.Errorf("checksum known from unknown content: %#v", unknown.Planned)
	}
}

func TestFileDrift(t *testing.T) {
	config := func(e *fileEnv) cty.Value {
		return fileConfig(e.host, "/etc/motd", map[string]cty.Value{"content": cty.StringVal("hello\n"), "mode": cty.StringVal("644")})
	}
	tests := []struct {
		name    string
		outside func(t *testing.T, real string)
		check   func(t *testing.T, read cty.Value)
		// chmodOnly says the fix keeps the file (same inode).
		chmodOnly bool
	}{
		{"content changed", func(t *testing.T, real string) {
			if err := os.WriteFile(real, []byte("tampered\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, read cty.Value) {
			if read.GetAttr("content").AsString() != "tampered\n" {
				t.Errorf("read content %#v", read.GetAttr("content"))
			}
		}, false},
		{"binary content", func(t *testing.T, real string) {
			if err := os.WriteFile(real, []byte{0xff, 0xfe, 0}, 0o644); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, read cty.Value) {
			if !read.GetAttr("content").IsNull() || read.GetAttr("content_base64").AsString() != "//4A" {
				t.Errorf("read %#v", read)
			}
		}, false},
		{"mode changed", func(t *testing.T, real string) {
			if err := os.Chmod(real, 0o600); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, read cty.Value) {
			if read.GetAttr("mode").AsString() != "0600" {
				t.Errorf("read mode %#v", read.GetAttr("mode"))
			}
		}, true},
		{"deleted", func(t *testing.T, real string) {
			if err := os.Remove(real); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, read cty.Value) {
			if !read.IsNull() {
				t.Errorf("read of a deleted file: %#v", read)
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFileEnv(t)
			state := e.create(config(e))
			if again := e.read(state); !again.RawEquals(state) {
				t.Fatalf("read before drift differs:\n%#v\n%#v", again, state)
			}
			real := e.real("etc/motd")
			before, _ := os.Stat(real)
			tt.outside(t, real)
			read := e.read(state)
			tt.check(t, read)
			prior := read
			if read.IsNull() {
				prior = cty.NullVal(fileType)
			}
			plan := e.plan(prior, config(e))
			if plan.Planned.RawEquals(prior) {
				t.Fatal("drift planned no change")
			}
			fixed := e.apply(prior, plan.Planned)
			if b, err := os.ReadFile(real); err != nil || string(b) != "hello\n" {
				t.Errorf("after apply the file holds %q, %v", b, err)
			}
			after, _ := os.Stat(real)
			if after.Mode().Perm() != 0o644 {
				t.Errorf("after apply the mode is %v", after.Mode())
			}
			if tt.chmodOnly && !os.SameFile(before, after) {
				t.Errorf("a mode change rewrote the file")
			}
			if final := e.plan(e.read(fixed), config(e)); !final.Planned.RawEquals(e.read(fixed)) {
				t.Errorf("not converged after apply: %#v", final.Planned)
			}
		})
	}
}

func TestFileValidate(t *testing.T) {
	h := host.Config{Name: "fs1", Root: "/tmp/nowhere"}.Value()
	s := cty.StringVal
	tests := []struct {
		name   string
		config cty.Value
		want   string
	}{
		{"ok", fileConfig(h, "/a", map[string]cty.Value{"content": s("")}), ""},
		{"two contents", fileConfig(h, "/a", map[string]cty.Value{"content": s("x"), "sensitive_content": s("y")}), "Conflicting content arguments"},
		{"no content", fileConfig(h, "/a", nil), "Missing file content"},
		{"relative path", fileConfig(h, "etc/motd", map[string]cty.Value{"content": s("x")}), "Invalid file path"},
		{"folder path", fileConfig(h, "/etc/", map[string]cty.Value{"content": s("x")}), "Invalid file path"},
		{"climbing path", fileConfig(h, "/../escape.txt", map[string]cty.Value{"content": s("x")}), "Invalid file path"},
		{"climbing in the middle", fileConfig(h, "/srv/../../etc/motd", map[string]cty.Value{"content": s("x")}), "Invalid file path"},
		{"dots in a name", fileConfig(h, "/srv/..data/a..b", map[string]cty.Value{"content": s("x")}), ""},
		{"bad mode", fileConfig(h, "/a", map[string]cty.Value{"content": s("x"), "mode": s("rw-r--r--")}), "Invalid file mode"},
		{"mode too big", fileConfig(h, "/a", map[string]cty.Value{"content": s("x"), "mode": s("17777")}), "Invalid file mode"},
		{"bad base64", fileConfig(h, "/a", map[string]cty.Value{"content_base64": s("%%%")}), "Invalid base64"},
		{"ssh host", fileConfig(host.Config{Name: "fs2", Transport: "ssh", Address: "fs2"}.Value(), "/a", map[string]cty.Value{"content": s("x")}), "Invalid host"},
	}
	p := sdk.New(New())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := p.Validate(t.Context(), providers.ValidateRequest{TypeName: "file", Config: tt.config})
			got := ""
			if len(resp.Diagnostics) > 0 {
				got = resp.Diagnostics[0].Summary
			}
			if got != tt.want || len(resp.Diagnostics) > 1 {
				t.Errorf("diagnostics %v, want %q", resp.Diagnostics, tt.want)
			}
		})
	}
}

func TestFileErrors(t *testing.T) {
	e := newFileEnv(t)
	none := cty.NullVal(fileType)
	t.Run("outside the root", func(t *testing.T) {
		// Validation refuses such a path; the host's confinement still holds
		// for a plan that reaches apply anyway.
		plan := e.plan(none, fileConfig(e.host, "/escape", map[string]cty.Value{"content": cty.StringVal("x")}))
		planned := sdk.SetAttrs(plan.Planned, map[string]cty.Value{"path": cty.StringVal("/../escape")})
		resp := e.p.Apply(e.ctx, providers.ApplyRequest{TypeName: "file", Prior: none, Planned: planned})
		if !resp.Diagnostics.HasErrors() || !strings.Contains(resp.Diagnostics[0].Detail, "outside the host's root") ||
			!strings.Contains(resp.Diagnostics[0].Detail, `host "fs1"`) {
			t.Errorf("diagnostics %v", resp.Diagnostics)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(e.root), "escape")); err == nil {
			t.Error("the file was written outside the root")
		}
	})
	t.Run("a folder at the path", func(t *testing.T) {
		state := e.create(fileConfig(e.host, "/srv/x", map[string]cty.Value{"content": cty.StringVal("x")}))
		if err := os.Remove(e.real("srv/x")); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(e.real("srv/x"), 0o755); err != nil {
			t.Fatal(err)
		}
		resp := e.p.Read(e.ctx, providers.ReadRequest{TypeName: "file", Prior: state})
		if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != "Not a regular file" {
			t.Errorf("diagnostics %v", resp.Diagnostics)
		}
	})
	t.Run("bad import ID", func(t *testing.T) {
		resp := e.p.Import(e.ctx, providers.ImportRequest{TypeName: "file", ID: "fs1:/etc/motd"})
		if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != "Invalid import ID" {
			t.Errorf("diagnostics %v", resp.Diagnostics)
		}
	})
}
