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

// TestRunActionRootBetweenSteps runs steps one after another on a host
// whose relative root is removed, replaced and made a file between them,
// through one provider as a runbook's plugin serves them: each step acts
// on the folder the root names when it runs, or fails at the root's check.
func TestRunActionRootBetweenSteps(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	sim := filepath.Join(dir, "sim")
	p := sdk.New(New())
	step := func(change func() error, script string) (string, providers.Diagnostics) {
		t.Helper()
		if err := change(); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var out strings.Builder
		resp := p.Invoke(t.Context(), providers.InvokeRequest{Action: "run", Args: cty.ObjectVal(map[string]cty.Value{
			"host": host.Config{Name: "h", Root: "sim"}.Value(),
			"argv": cty.ListVal([]cty.Value{cty.StringVal("/bin/sh"), cty.StringVal("-c"), cty.StringVal(script)}),
			"env":  cty.NullVal(cty.Map(cty.String)),
			"dir":  cty.StringVal("/work"),
		}), Progress: func(pr providers.Progress) {
			mu.Lock()
			out.WriteString(pr.Message)
			mu.Unlock()
		}})
		return out.String(), resp.Diagnostics
	}
	mkdir := func() error { return os.MkdirAll(filepath.Join(sim, "work"), 0o755) }
	for _, tc := range []struct {
		name    string
		change  func() error
		want    string
		wantErr string
	}{
		{"root there", mkdir, "root=" + sim + " in=" + sim + "/work marks=none\n", ""},
		{"root removed", func() error { return os.RemoveAll(sim) }, "", `host "h" cannot be reached: its root folder ` + sim + " does not exist"},
		{"root made again", mkdir, "root=" + sim + " in=" + sim + "/work marks=none\n", ""},
		{"root replaced", func() error {
			if err := os.Rename(sim, sim+".old"); err != nil {
				return err
			}
			if err := mkdir(); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(sim, "work/new"), nil, 0o644)
		}, "root=" + sim + " in=" + sim + "/work marks=new\n", ""},
		{"root a file", func() error {
			if err := os.RemoveAll(sim); err != nil {
				return err
			}
			return os.WriteFile(sim, nil, 0o644)
		}, "", `host "h" cannot be reached: its root folder ` + sim + " is not a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, diags := step(tc.change, `echo "root=$DROVER_HOST_ROOT in=$(pwd) marks=$(ls | grep . || echo none)"; touch old`)
			if tc.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags[0].Detail, tc.wantErr) {
					t.Fatalf("diagnostics %v, want %q", diags, tc.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if out != tc.want {
				t.Errorf("output %q, want %q", out, tc.want)
			}
		})
	}
}
