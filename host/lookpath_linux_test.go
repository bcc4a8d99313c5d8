package host

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLookPathSeesChanges changes the folders of PATH between lookups of
// one name: each answer is exec.LookPath's, whatever was remembered.
func TestLookPathSeesChanges(t *testing.T) {
	tmp := t.TempDir()
	dir := func(name string) string { return filepath.Join(tmp, name) }
	for _, d := range []string{"a", "b", "c"} {
		if err := os.Mkdir(dir(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(dir("a"), dir("link")); err != nil {
		t.Fatal(err)
	}
	put := func(d string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir(d), "prog"), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir(d), "prog"), mode); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		path   []string // PATH, folder names below tmp
		change func()
		want   string // folder name, "" for not found
		// kept says the answer is remembered for the next lookup.
		kept bool
	}{
		{name: "found", path: []string{"missing", "a", "b"}, change: func() { put("b", 0o755) }, want: "b", kept: true},
		{name: "remembered", path: []string{"missing", "a", "b"}, change: func() {}, want: "b", kept: true},
		// A chmod through a hard link outside PATH is seen by no watch.
		{name: "not executable through a link", path: []string{"missing", "a", "b"}, change: func() {
			os.Link(filepath.Join(dir("b"), "prog"), filepath.Join(tmp, "elsewhere"))
			os.Chmod(filepath.Join(tmp, "elsewhere"), 0o644)
		}, want: ""},
		{name: "executable again", path: []string{"missing", "a", "b"}, change: func() { os.Chmod(filepath.Join(tmp, "elsewhere"), 0o755) }, want: "b", kept: true},
		{name: "added earlier", path: []string{"missing", "a", "b"}, change: func() { put("a", 0o755) }, want: "a", kept: true},
		{name: "other entry", path: []string{"missing", "a", "b"}, change: func() { os.WriteFile(filepath.Join(dir("a"), "other"), nil, 0o755) }, want: "a", kept: true},
		// An entry of the name before the program's is never remembered
		// past: it could be a link whose target comes to be.
		{name: "not executable", path: []string{"missing", "a", "b"}, change: func() { os.Chmod(filepath.Join(dir("a"), "prog"), 0o644) }, want: "b"},
		// No watch sees a chmod: the entry before the program's was not
		// remembered past.
		{name: "executable again earlier", path: []string{"missing", "a", "b"}, change: func() { os.Chmod(filepath.Join(dir("a"), "prog"), 0o755) }, want: "a", kept: true},
		{name: "not executable once more", path: []string{"missing", "a", "b"}, change: func() { os.Chmod(filepath.Join(dir("a"), "prog"), 0o644) }, want: "b"},
		{name: "missing folder made", path: []string{"missing", "a", "b"}, change: func() { os.Mkdir(dir("missing"), 0o755); put("missing", 0o755) }, want: "missing", kept: true},
		{name: "removed", path: []string{"missing", "a", "b"}, change: func() {
			os.Remove(filepath.Join(dir("missing"), "prog"))
			os.Remove(filepath.Join(dir("b"), "prog"))
		}, want: ""},
		{name: "back", path: []string{"missing", "a", "b"}, change: func() { put("b", 0o755) }, want: "b"},
		{name: "folder replaced", path: []string{"missing", "a", "b"}, change: func() {
			os.Rename(dir("b"), dir("b.old"))
			os.Mkdir(dir("b"), 0o755)
		}, want: ""},
		{name: "through a symlink", path: []string{"link", "c"}, change: func() { put("a", 0o755); put("c", 0o755) }, want: "link"},
		{name: "symlink retargeted", path: []string{"link", "c"}, change: func() {
			os.Remove(dir("link"))
			os.Symlink(dir("b"), dir("link"))
		}, want: "c"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			var dirs []string
			for _, d := range s.path {
				dirs = append(dirs, dir(d))
			}
			pathEnv := strings.Join(dirs, string(filepath.ListSeparator))
			t.Setenv("PATH", pathEnv)
			s.change()
			want := ""
			if s.want != "" {
				want = filepath.Join(dir(s.want), "prog")
			}
			if ref, _ := exec.LookPath("prog"); ref != want {
				t.Fatalf("the test is wrong: exec.LookPath gives %q, the test wants %q", ref, want)
			}
			got, ok := lookPath("prog")
			if !ok {
				got = ""
			}
			if got != want {
				t.Fatalf("lookPath = %q, want %q", got, want)
			}
			programs.mu.Lock()
			_, kept := programs.found[programKey{pathEnv, "prog"}]
			programs.mu.Unlock()
			if kept != s.kept {
				t.Errorf("remembered: %v, want %v", kept, s.kept)
			}
		})
	}
}

// BenchmarkLookPathFirst is a program's first lookup, the one that
// watches the folders of PATH, with a folder of 5,000 entries before it
// (/usr/bin holds a thousand or more) whose entries the kernel has seen.
func BenchmarkLookPathFirst(b *testing.B) {
	tmp := b.TempDir()
	full, prog := filepath.Join(tmp, "full"), filepath.Join(tmp, "prog")
	for _, d := range []string{full, prog} {
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 5000 {
		if err := os.WriteFile(filepath.Join(full, strconv.Itoa(i)), nil, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(prog, "prog"), nil, 0o755); err != nil {
		b.Fatal(err)
	}
	b.Setenv("PATH", full+string(filepath.ListSeparator)+prog)
	for b.Loop() {
		b.StopTimer()
		// Closing the instance waits for the kernel's grace period.
		programs.mu.Lock()
		programs.reset()
		programs.mu.Unlock()
		for i := range 5000 {
			os.Lstat(filepath.Join(full, strconv.Itoa(i)))
		}
		b.StartTimer()
		if _, ok := lookPath("prog"); !ok {
			b.Fatal("prog not found")
		}
	}
}
