package agent

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
)

// walkReq asks agent-test.walk to list every folder of its host through
// the tripwire it was called through, making the folder During (a path
// of the machine) once the first folder is listed.
type walkReq struct{ During string }

func init() {
	host.RegisterOp("agent-test.walk", func(ctx context.Context, h host.Host, req walkReq) (struct{ Folders []string }, error) {
		var resp struct{ Folders []string }
		tw := host.WatchedBy(ctx)
		if tw == nil {
			return resp, errors.New("called without a tripwire")
		}
		var list func(dir string) error
		list = func(dir string) error {
			entries, err := tw.ReadDirStat(ctx, dir)
			if err != nil {
				return err
			}
			resp.Folders = append(resp.Folders, dir)
			if req.During != "" {
				if err := os.Mkdir(req.During, 0o755); err != nil {
					return err
				}
				req.During = ""
			}
			for _, e := range entries {
				if e.Mode.IsDir() {
					if err := list(path.Join(dir, e.Name)); err != nil {
						return err
					}
				}
			}
			return nil
		}
		return resp, list("/")
	})
}

// TestInvokeWatched: an op called through a tripwire the agent holds
// (host.CallWatched) lists a whole tree in one call, and the tripwire
// goes on watching every folder it listed after the call, as one that
// listed them call by call does.
func TestInvokeWatched(t *testing.T) {
	cases := []struct {
		name   string
		during string // a folder made while the op walks
		change func(root string) error
		trips  bool
	}{
		{"nothing", "", func(string) error { return nil }, false},
		{"reading a deep file", "", func(root string) error {
			_, err := os.ReadFile(filepath.Join(root, "a/b/c/f"))
			return err
		}, false},
		{"a deep file created after", "", func(root string) error {
			return os.WriteFile(filepath.Join(root, "a/b/c/new"), nil, 0o644)
		}, true},
		{"a deep file written after", "", func(root string) error {
			return os.WriteFile(filepath.Join(root, "a/b/c/f"), []byte("changed"), 0o644)
		}, true},
		// The op makes it right after it listed "/".
		{"a folder made where the walk had listed", "during", func(string) error { return nil }, true},
		{"a folder made where the walk had yet to list", "a/b/during", func(string) error { return nil }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "a/b/c"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "a/b/c/f"), []byte("data"), 0o644); err != nil {
				t.Fatal(err)
			}
			cl := serve(t)
			s := Scope{Name: "fs1", Root: root}
			tw, err := cl.Tripwire(ctx, s, "/")
			if err != nil {
				t.Fatal(err)
			}
			defer tw.Close()
			req := walkReq{}
			if c.during != "" {
				req.During = filepath.Join(root, c.during)
			}
			resp, err := host.CallWatched[walkReq, struct{ Folders []string }](ctx, invoker{host.NewLocal("controller", ""), cl, s}, tw, "agent-test.walk", req)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(resp.Folders, " "); !strings.HasPrefix(got, "/ /a /a/b") {
				t.Fatalf("the op listed %s", got)
			}
			if err := c.change(root); err != nil {
				t.Fatal(err)
			}
			if got := tw.Tripped(); got != c.trips {
				t.Errorf("Tripped() = %v, want %v", got, c.trips)
			}
		})
	}

	t.Run("closed", func(t *testing.T) {
		cl := serve(t)
		s := Scope{Name: "fs1", Root: t.TempDir()}
		tw, err := cl.Tripwire(t.Context(), s, "/")
		if err != nil {
			t.Fatal(err)
		}
		tw.Close()
		_, err = host.CallWatched[walkReq, struct{ Folders []string }](t.Context(), invoker{host.NewLocal("controller", ""), cl, s}, tw, "agent-test.walk", walkReq{})
		if err == nil || !strings.Contains(err.Error(), "closed already") {
			t.Errorf("an op through a closed tripwire: %v", err)
		}
	})
}
