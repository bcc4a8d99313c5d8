package mirror

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/google/go-cmp/cmp"
)

// env is two hosts rooted at folders of one test, as two machines.
type env struct {
	t        *testing.T
	fs1, fs2 host.Host
	r1, r2   string // their roots
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, r1: filepath.Join(dir, "fs1"), r2: filepath.Join(dir, "fs2")}
	e.fs1, e.fs2 = host.NewLocal("fs1", e.r1), host.NewLocal("fs2", e.r2)
	t.Cleanup(func() { e.fs1.Close(); e.fs2.Close() })
	for _, r := range []string{e.r1, e.r2} {
		if err := os.MkdirAll(r, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// src and dst are the real paths of the default pair's folders.
func (e *env) src(rel ...string) string {
	return filepath.Join(append([]string{e.r1, "srv/set"}, rel...)...)
}
func (e *env) dst(rel ...string) string {
	return filepath.Join(append([]string{e.r2, "replica/set"}, rel...)...)
}

func (e *env) pair() Pair {
	return Pair{Source: Endpoint{e.fs1, "/srv/set"}, Target: Endpoint{e.fs2, "/replica/set"}}
}

func (e *env) mirror(opts Options, pairs ...Pair) *Mirror {
	e.t.Helper()
	if len(pairs) == 0 {
		pairs = []Pair{e.pair()}
	}
	m, err := New(e.t.Context(), pairs, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { m.Close() })
	return m
}

// sync plans and applies, failing the test on any error, and returns the
// plan's lines.
func (e *env) sync(m *Mirror) []string {
	e.t.Helper()
	pl, err := m.Plan(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := m.Apply(e.t.Context(), pl, nil); err != nil {
		e.t.Fatal(err)
	}
	return lines(pl)
}

func lines(pl *Plan) []string {
	out := []string{}
	for i := range pl.Changes {
		out = append(out, pl.Changes[i].String())
	}
	return out
}

// write makes a file with content and mtime below a real folder.
func write(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshot describes a real tree (but for block records): per relative
// path its kind, mode,
// owner, size, mtime (not for links or folders, whose times tests check
// apart), content hash or link target, and which paths share an inode.
func snapshot(t *testing.T, root string, times bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	inodes := map[uint64]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if ownKind(d.Name()) == KindSidecar {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			desc += fmt.Sprintf(" %d %s", fi.Size(), hex.EncodeToString(sum[:4]))
			if st.Nlink > 1 {
				if first, ok := inodes[st.Ino]; ok {
					desc += " =" + first
				} else {
					inodes[st.Ino] = rel
				}
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			desc += " -> " + l
		}
		if times && fi.Mode()&fs.ModeSymlink == 0 {
			desc += " " + fi.ModTime().UTC().Format(time.RFC3339Nano)
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// same fails the test unless the two real trees match.
func same(t *testing.T, a, b string) {
	t.Helper()
	if d := cmp.Diff(snapshot(t, a, true), snapshot(t, b, true)); d != "" {
		t.Fatalf("trees differ (-source +target):\n%s", d)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func joinLines(s []string) string { return strings.Join(s, "\n") }
