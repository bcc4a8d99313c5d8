package core

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

func TestRunAction(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "opt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "opt/noexec.sh"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := host.Config{Name: "fs2", Root: root}.Value()
	p := sdk.New(New())
	args := func(argv ...string) cty.Value {
		var l []cty.Value
		for _, a := range argv {
			l = append(l, cty.StringVal(a))
		}
		return cty.ObjectVal(map[string]cty.Value{"host": h, "argv": cty.ListVal(l),
			"env": cty.MapVal(map[string]cty.Value{"SITE": cty.StringVal("b")}), "dir": cty.NullVal(cty.String)})
	}
	for _, tc := range []struct {
		name    string
		argv    []string
		exit    int64
		out     string
		wantErr string
	}{
		{"output and exit code", []string{"/bin/sh", "-c", "echo site=$SITE; echo oops >&2; exit 3"}, 3, "stdout:site=$b\n|stderr:oops\n|", ""},
		{"missing program", []string{"/opt/missing.sh"}, 0, "", "Check that /opt/missing.sh exists on host \"fs2\""},
		{"not executable", []string{"/opt/noexec.sh"}, 0, "", "Make /opt/noexec.sh executable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got strings.Builder
			resp := p.Invoke(t.Context(), providers.InvokeRequest{Action: "run", Args: args(tc.argv...), Progress: func(pr providers.Progress) {
				mu.Lock()
				got.WriteString(pr.Unit + ":" + pr.Message + "|")
				mu.Unlock()
			}})
			if tc.wantErr != "" {
				if !resp.Diagnostics.HasErrors() || !strings.Contains(resp.Diagnostics[0].Detail, tc.wantErr) {
					t.Fatalf("diagnostics %v, want %q", resp.Diagnostics, tc.wantErr)
				}
				return
			}
			if resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics)
			}
			if n, _ := resp.Result.GetAttr("exit_code").AsBigFloat().Int64(); n != tc.exit {
				t.Errorf("exit code %d, want %d", n, tc.exit)
			}
			// The two streams are read apart, so only each one's order holds.
			for _, want := range strings.SplitAfter(strings.ReplaceAll(tc.out, "$", ""), "|") {
				if !strings.Contains(got.String(), want) {
					t.Errorf("output %q lacks %q", got.String(), want)
				}
			}
		})
	}
}

func TestWaitActionStops(t *testing.T) {
	p := sdk.New(New())
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	resp := p.Invoke(ctx, providers.InvokeRequest{Action: "wait", Args: cty.ObjectVal(map[string]cty.Value{"duration": cty.StringVal("1h")})})
	if !resp.Diagnostics.HasErrors() || !strings.Contains(resp.Diagnostics[0].Detail, "stopped before its end") {
		t.Errorf("diagnostics %v", resp.Diagnostics)
	}
}
