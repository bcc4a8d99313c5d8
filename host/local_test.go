package host

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func rootedHost(t *testing.T) (Host, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "sim", "fs1")
	h := NewLocal("fs1", root)
	t.Cleanup(func() { h.Close() })
	return h, root
}

func TestLocalFiles(t *testing.T) {
	ctx := context.Background()
	h, root := rootedHost(t)

	if err := h.WriteFile(ctx, "/etc/drover/motd", strings.NewReader("hello\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "etc/drover/motd"))
	if err != nil || string(got) != "hello\n" {
		t.Fatalf("file below the root = %q, %v", got, err)
	}
	fi, err := h.Lstat(ctx, "/etc/drover/motd")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 || fi.Size() != 6 {
		t.Errorf("mode %v size %d, want -rw-r----- 6", fi.Mode(), fi.Size())
	}
	if b, err := h.ReadFile(ctx, "/etc/drover/motd"); err != nil || string(b) != "hello\n" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
	rc, err := h.Open(ctx, "/etc/drover/motd")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "hello\n" {
		t.Errorf("Open read %q", b)
	}

	if err := h.Chmod(ctx, "/etc/drover/motd", 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, _ := h.Lstat(ctx, "/etc/drover/motd"); fi.Mode().Perm() != 0o600 {
		t.Errorf("after Chmod mode is %v", fi.Mode())
	}
	if err := h.MkdirAll(ctx, "/var/lib/x", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := h.Rename(ctx, "/etc/drover/motd", "/var/lib/x/motd"); err != nil {
		t.Fatal(err)
	}
	entries, err := h.ReadDir(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "etc,var" {
		t.Errorf("ReadDir / = %v, want [etc var]", names)
	}
	if err := h.Remove(ctx, "/var/lib/x/motd"); err != nil {
		t.Fatal(err)
	}
	if err := h.Remove(ctx, "/var/lib/x/motd"); err != nil {
		t.Errorf("removing a missing file: %v", err)
	}
	_, err = h.Lstat(ctx, "/var/lib/x/motd")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Lstat of a removed file: %v, want not exist", err)
	}
	if err == nil || !strings.Contains(err.Error(), `host "fs1"`) || !strings.Contains(err.Error(), "/var/lib/x/motd") {
		t.Errorf("error %q does not name the host and its path", err)
	}

	if err := h.WriteFile(ctx, "/var/lib/x/motd", strings.NewReader("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = h.WriteFile(ctx, "/var/lib/x/motd/inside", strings.NewReader("x"), 0o644)
	if !errors.Is(err, ErrParentNotFolder) || !strings.Contains(err.Error(), "write /var/lib/x/motd/inside: a folder on its path is a file") {
		t.Errorf("writing below a file: %v", err)
	}
}

func TestLocalUnrooted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h := NewLocal("here", "")
	defer h.Close()
	p := filepath.Join(dir, "a", "b.txt")
	if err := h.WriteFile(ctx, p, strings.NewReader("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "x" {
		t.Errorf("file = %q, %v", b, err)
	}
	if _, err := h.ReadFile(ctx, "relative/path"); err == nil || !strings.Contains(err.Error(), "not absolute") {
		t.Errorf("relative path: %v", err)
	}
}

func TestLocalRootEscapes(t *testing.T) {
	ctx := context.Background()
	h, root := rootedHost(t)
	outside := filepath.Join(filepath.Dir(root), "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.MkdirAll(ctx, "/links", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../outside", filepath.Join(root, "links", "rel")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "links", "abs")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		op   func(path string) error
		path string
	}{
		{"read dotdot", func(p string) error { _, err := h.ReadFile(ctx, p); return err }, "/../outside/secret"},
		{"read nested dotdot", func(p string) error { _, err := h.ReadFile(ctx, p); return err }, "/etc/../../outside/secret"},
		{"read relative symlink", func(p string) error { _, err := h.ReadFile(ctx, p); return err }, "/links/rel/secret"},
		{"read absolute symlink", func(p string) error { _, err := h.ReadFile(ctx, p); return err }, "/links/abs/secret"},
		{"write through symlink", func(p string) error { return h.WriteFile(ctx, p, strings.NewReader("x"), 0o644) }, "/links/rel/new"},
		{"remove through symlink", func(p string) error { return h.Remove(ctx, p) }, "/links/rel/secret"},
		{"chmod through symlink", func(p string) error { return h.Chmod(ctx, p, 0o777) }, "/links/abs/secret"},
		{"run dir dotdot", func(p string) error { _, err := h.Run(ctx, []string{"true"}, RunOptions{Dir: p}); return err }, "/../outside"},
		{"open relative symlink", func(p string) error { _, err := h.Open(ctx, p); return err }, "/links/rel/secret"},
		{"open for writing through absolute symlink", func(p string) error {
			_, err := h.OpenFile(ctx, p, os.O_RDWR, 0)
			return err
		}, "/links/abs/secret"},
		{"temp file through symlink", func(p string) error { _, _, err := h.CreateTemp(ctx, p); return err }, "/links/rel/new"},
		{"list through symlink", func(p string) error { _, err := h.ReadDirStat(ctx, p); return err }, "/links/abs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op(tt.path)
			if !errors.Is(err, ErrOutsideRoot) {
				t.Fatalf("err = %v, want ErrOutsideRoot", err)
			}
			if msg := err.Error(); !strings.Contains(msg, `host "fs1"`) || !strings.Contains(msg, tt.path) {
				t.Errorf("error %q does not name the host and the path", msg)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "s" {
		t.Errorf("the file outside the root changed: %q", b)
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); err == nil {
		t.Errorf("a file was written outside the root")
	}
	if fi, _ := os.Stat(filepath.Join(outside, "secret")); fi.Mode().Perm() != 0o600 {
		t.Errorf("the mode of a file outside the root changed: %v", fi.Mode())
	}
}

// TestLocalSymlinksInsideRoot checks that symlinks that stay below the
// root are followed where a path leads through them.
func TestLocalSymlinksInsideRoot(t *testing.T) {
	ctx := t.Context()
	h, root := rootedHost(t)
	if err := h.WriteFile(ctx, "/data/f", strings.NewReader("inside"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"dir": "data", "file": "data/f", "up": "data/../data"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"/dir/f", "/file", "/up/f"} {
		rc, err := h.Open(ctx, p)
		if err != nil {
			t.Errorf("Open(%s): %v", p, err)
			continue
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "inside" {
			t.Errorf("Open(%s) read %q", p, b)
		}
		f, err := h.OpenFile(ctx, p, os.O_RDWR, 0)
		if err != nil {
			t.Errorf("OpenFile(%s): %v", p, err)
			continue
		}
		f.Close()
	}
	if _, err := h.ReadDirStat(ctx, "/dir"); err != nil {
		t.Errorf("listing through a symlink inside the root: %v", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	ctx := context.Background()
	h, root := rootedHost(t)
	old := bytes.Repeat([]byte("a"), 1<<20)
	next := bytes.Repeat([]byte("b"), 1<<20)
	if err := h.WriteFile(ctx, "/data", bytes.NewReader(old), 0o644); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan string, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			b, err := os.ReadFile(filepath.Join(root, "data"))
			if err != nil || !(bytes.Equal(b, old) || bytes.Equal(b, next)) {
				select {
				case errs <- "a reader saw a partial file or none":
				default:
				}
				return
			}
		}
	}()
	for i := range 20 {
		content := old
		if i%2 == 0 {
			content = next
		}
		if err := h.WriteFile(ctx, "/data", bytes.NewReader(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	select {
	case msg := <-errs:
		t.Fatal(msg)
	default:
	}

	failing := io.MultiReader(strings.NewReader("partial"), errReader{})
	if err := h.WriteFile(ctx, "/data", failing, 0o644); err == nil {
		t.Fatal("a failing reader gave no error")
	}
	if b, _ := os.ReadFile(filepath.Join(root, "data")); !bytes.Equal(b, old) {
		t.Errorf("a failed write changed the file")
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := h.WriteFile(cancelled, "/data", strings.NewReader("x"), 0o644); !errors.Is(err, context.Canceled) {
		t.Errorf("write with a cancelled context: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestWriteFileIgnoresUmask(t *testing.T) {
	h, root := rootedHost(t)
	if err := h.WriteFile(context.Background(), "/x", strings.NewReader(""), 0o777); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(root, "x"))
	if err != nil || fi.Mode().Perm() != 0o777 {
		t.Errorf("mode %v, %v; want 0777", fi.Mode(), err)
	}
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	h, root := rootedHost(t)
	script := "#!/bin/sh\necho \"args:$*\"\necho \"pwd:$(pwd)\"\necho \"root:$DROVER_HOST_ROOT\"\necho \"extra:$EXTRA\"\nexit ${CODE:-0}\n"
	if err := h.WriteFile(ctx, "/usr/local/bin/hello", strings.NewReader(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := h.MkdirAll(ctx, "/work", 0o755); err != nil {
		t.Fatal(err)
	}
	realRoot, _ := filepath.EvalSymlinks(root)

	tests := []struct {
		name     string
		argv     []string
		opts     RunOptions
		stdin    string
		wantCode int
		wantOut  string
	}{
		{"true", []string{"true"}, RunOptions{}, "", 0, ""},
		{"false", []string{"false"}, RunOptions{}, "", 1, ""},
		{"exit code", []string{"/bin/sh", "-c", "exit 3"}, RunOptions{}, "", 3, ""},
		{"stdin to stdout", []string{"cat"}, RunOptions{}, "through\n", 0, "through\n"},
		{"no shell expansion", []string{"echo", "$HOME", "a;b", "*"}, RunOptions{}, "", 0, "$HOME a;b *\n"},
		{"script below the root", []string{"/usr/local/bin/hello", "x", "y"},
			RunOptions{Dir: "/work", Env: []string{"EXTRA=1", "CODE=4"}}, "", 4,
			"args:x y\npwd:" + filepath.Join(realRoot, "work") + "\nroot:" + root + "\nextra:1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tt.opts.Stdout = &out
			tt.opts.Stdin = strings.NewReader(tt.stdin)
			res, err := h.Run(ctx, tt.argv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tt.wantCode {
				t.Errorf("exit code %d, want %d", res.ExitCode, tt.wantCode)
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout %q, want %q", out.String(), tt.wantOut)
			}
		})
	}

	t.Run("missing program", func(t *testing.T) {
		_, err := h.Run(ctx, []string{"/no/such/program"}, RunOptions{})
		if err == nil || !strings.Contains(err.Error(), `host "fs1"`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("missing dir", func(t *testing.T) {
		_, err := h.Run(ctx, []string{"true"}, RunOptions{Dir: "/nope"})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("missing root", func(t *testing.T) {
		// A machine that is not there runs nothing, not even a program
		// of this one's.
		gone := NewLocal("gone", filepath.Join(root, "nowhere"))
		_, err := gone.Run(ctx, []string{"true"}, RunOptions{})
		if err == nil || !strings.Contains(err.Error(), `host "gone" cannot be reached: its root folder `+filepath.Join(root, "nowhere")+" does not exist") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("empty argv", func(t *testing.T) {
		if _, err := h.Run(ctx, nil, RunOptions{}); err == nil {
			t.Error("no error")
		}
	})
}

func TestRunCancel(t *testing.T) {
	h := NewLocal("here", "")
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		// The background sleep holds stdout open: only killing the
		// process group ends the run promptly.
		_, err := h.Run(ctx, []string{"/bin/sh", "-c", "sleep 60 & echo started; wait"}, RunOptions{Stdout: &syncWriter{w: &out}})
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(readSync(&out), "started") {
		if time.Now().After(deadline) {
			t.Fatal("the command never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(waitDelay - time.Second):
		t.Fatal("Run did not return after cancellation")
	}
}

var outMu sync.Mutex

type syncWriter struct{ w io.Writer }

func (s *syncWriter) Write(p []byte) (int, error) {
	outMu.Lock()
	defer outMu.Unlock()
	return s.w.Write(p)
}

func readSync(b *bytes.Buffer) string {
	outMu.Lock()
	defer outMu.Unlock()
	return b.String()
}

func TestTempFileOfKilledWriterIsReclaimed(t *testing.T) {
	ctx := context.Background()
	h, root := rootedHost(t)
	if err := h.WriteFile(ctx, "/etc/x", strings.NewReader("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	debris := filepath.Join(root, TempPath("/etc/x"))
	other := filepath.Join(root, TempPath("/etc/y"))
	for _, p := range []string{debris, other} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.WriteFile(ctx, "/etc/x", strings.NewReader("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(debris); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the killed writer's temp file is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another file's temp file was removed: %v", err)
	}
}
