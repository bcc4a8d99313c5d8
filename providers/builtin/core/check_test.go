package core

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

// TestCheckAction answers checks against a real TCP listener, real HTTP
// servers, real commands and real files, each passing and not.
func TestCheckAction(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "app.conf"), []byte("mode=standby\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := closed.Addr().String()
	closed.Close()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	moved := httptest.NewServer(http.RedirectHandler(ok.URL, http.StatusFound))
	defer moved.Close()

	p := sdk.New(New())
	h := host.Config{Name: "fs2", Root: root}.Value()
	args := func(set map[string]cty.Value) cty.Value {
		set["host"] = h
		return cty.ObjectVal(set)
	}
	for _, tc := range []struct {
		name   string
		args   map[string]cty.Value
		passed bool
		detail string
	}{
		{"tcp open", map[string]cty.Value{"tcp": cty.StringVal(l.Addr().String())}, true, "connected to " + l.Addr().String()},
		{"tcp refused", map[string]cty.Value{"tcp": cty.StringVal(dead)}, false, "dial tcp " + dead + ": connect: connection refused"},
		{"http status", map[string]cty.Value{"http": cty.StringVal(ok.URL), "status": cty.NumberIntVal(200)}, true, "status 200"},
		{"http redirect not followed", map[string]cty.Value{"http": cty.StringVal(moved.URL), "status": cty.NumberIntVal(200)}, false, "status 302"},
		{"command exit code", map[string]cty.Value{"command": cty.ListVal([]cty.Value{cty.StringVal("/bin/sh"), cty.StringVal("-c"), cty.StringVal("exit 3")}),
			"exit_code": cty.NumberIntVal(3)}, true, "exit code 3"},
		{"command other exit code", map[string]cty.Value{"command": cty.ListVal([]cty.Value{cty.StringVal("false")})}, false, "exit code 1"},
		{"file present", map[string]cty.Value{"file": cty.StringVal("/app.conf")}, true, "present, 13 bytes"},
		{"file holds the text", map[string]cty.Value{"file": cty.StringVal("/app.conf"), "contains": cty.StringVal("mode=standby")}, true, "present and holds the text"},
		{"file without the text", map[string]cty.Value{"file": cty.StringVal("/app.conf"), "contains": cty.StringVal("mode=primary")}, false, "present (13 bytes) without the text"},
		{"file missing", map[string]cty.Value{"file": cty.StringVal("/nope")}, false, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := p.Invoke(t.Context(), providers.InvokeRequest{Action: "check", Args: args(tc.args)})
			if resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics)
			}
			got := map[string]any{"passed": resp.Result.GetAttr("passed").True(), "detail": resp.Result.GetAttr("detail").AsString()}
			if d := cmp.Diff(map[string]any{"passed": tc.passed, "detail": tc.detail}, got); d != "" {
				t.Errorf("result (-want +got):\n%s", d)
			}
		})
	}
}
