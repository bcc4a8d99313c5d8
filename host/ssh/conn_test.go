package ssh

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/sshtest"
	"github.com/drover-dr/drover/internal/testenv"
	xssh "golang.org/x/crypto/ssh"
)

func TestAuthRefused(t *testing.T) {
	s := sshtest.Start(t)
	dir := t.TempDir()
	stranger := filepath.Join(dir, "stranger")
	sshtest.WriteKey(t, stranger)
	locked := filepath.Join(dir, "locked")
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := xssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	sshtest.WriteFile(t, locked, string(pem.EncodeToMemory(block)))

	tests := []struct {
		name string
		edit func(*Options)
		want []string
	}{
		{"wrong user", func(o *Options) { o.User = "nosuchuser-h8" }, []string{`refused user "nosuchuser-h8"`, s.Identity, "authorized_keys", "nothing was done"}},
		{"key not authorized", func(o *Options) { o.IdentityFile = stranger }, []string{`refused user "` + s.User + `"`, stranger}},
		{"missing key file", func(o *Options) { o.IdentityFile = filepath.Join(dir, "missing") }, []string{"identity_file", filepath.Join(dir, "missing")}},
		{"key with a passphrase", func(o *Options) { o.IdentityFile = locked }, []string{"passphrase", "ssh-add"}},
		{"no key and no agent", func(o *Options) { o.IdentityFile = "" }, []string{"no identity_file", "SSH_AUTH_SOCK"}},
		{"no address", func(o *Options) { o.Address = "" }, []string{"no address"}},
		{"bad port", func(o *Options) { o.Address = "127.0.0.1:http" }, []string{`address "127.0.0.1:http": "http" is not a port number`}},
		{"relative root", func(o *Options) { o.Root = "srv" }, []string{`root "srv" is not an absolute path`}},
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := options(s, "fs1")
			tt.edit(&opts)
			_, err := dial(opts)
			if err == nil {
				t.Fatal("connected")
			}
			for _, part := range append(tt.want, `host "fs1"`) {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("the error does not say %q:\n%s", part, err)
				}
			}
		})
	}
	t.Run("missing key file is ErrNotExist", func(t *testing.T) {
		opts := options(s, "fs1")
		opts.IdentityFile = filepath.Join(dir, "missing")
		if _, err := dial(opts); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want fs.ErrNotExist", err)
		}
	})
}

// TestAgent signs with a real ssh-agent holding the key.
func TestAgent(t *testing.T) {
	s := sshtest.Start(t)
	bin := testenv.Command(t, "ssh-agent", "openssh-client")
	add := testenv.Command(t, "ssh-add", "openssh-client")
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command(bin, "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	sshtest.WaitFor(t, "the agent's socket", func() bool { _, err := os.Stat(sock); return err == nil })
	cmd := exec.Command(add, s.Identity)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	t.Setenv("SSH_AUTH_SOCK", sock)
	opts := options(s, "fs1")
	opts.IdentityFile = ""
	if _, err := dial(opts); err != nil {
		t.Fatalf("the agent's key was refused: %v", err)
	}
}

// TestReconnect drops the connection between operations, as a restarted
// sshd or a network failure would, and expects the next ones to work.
func TestReconnect(t *testing.T) {
	s := sshtest.Start(t)
	h, _ := rootedHost(t, s)
	ctx := context.Background()
	if err := h.WriteFile(ctx, "/f", strings.NewReader("before"), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		op   func() error
	}{
		{"read", func() error {
			b, err := h.ReadFile(ctx, "/f")
			if err == nil && string(b) != "before" {
				err = errors.New("read " + string(b))
			}
			return err
		}},
		{"write", func() error { return h.WriteFile(ctx, "/f", strings.NewReader("after"), 0o644) }},
		{"run", func() error {
			var out bytes.Buffer
			_, err := h.Run(ctx, []string{"cat", "f"}, host.RunOptions{Dir: "/", Stdout: &out})
			if err == nil && out.String() != "after" {
				err = errors.New("cat printed " + out.String())
			}
			return err
		}},
		{"rename", func() error { return h.Rename(ctx, "/f", "/g") }},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			s.DropConnections(t)
			// The client learns of the drop from its reader; an
			// operation sent before that is in doubt, as it is when the
			// connection drops during it, and only an idempotent one is
			// repeated.
			sshtest.WaitFor(t, "the client to see its connection end", func() bool {
				h.c.mu.Lock()
				defer h.c.mu.Unlock()
				return h.c.cur == nil || !h.c.cur.alive()
			})
			if err := step.op(); err != nil {
				t.Fatalf("after the connection dropped: %v", err)
			}
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	s := sshtest.Start(t)
	opts := options(s, "fs1")
	opts.IdleTimeout = 300 * time.Millisecond
	opts.KeepaliveInterval = 50 * time.Millisecond
	h := connect(t, opts)
	sshtest.WaitFor(t, "the idle connection to be closed", func() bool { return len(s.ConnectionPIDs(t)) == 0 })
	if _, err := h.Lstat(context.Background(), "/"); err != nil {
		t.Fatalf("after the idle timeout: %v", err)
	}
}

// TestKeepalive stops the server's side of the connection, as a peer that
// vanished without closing it: the missed keepalives drop the connection,
// and the next operation dials a new one.
func TestKeepalive(t *testing.T) {
	s := sshtest.Start(t)
	opts := options(s, "fs1")
	opts.KeepaliveInterval = 100 * time.Millisecond
	opts.KeepaliveCount = 2
	h := connect(t, opts)
	stopped := s.ConnectionPIDs(t)
	for _, pid := range stopped {
		syscall.Kill(pid, syscall.SIGSTOP)
	}
	t.Cleanup(func() {
		for _, pid := range stopped {
			syscall.Kill(pid, syscall.SIGKILL)
			syscall.Kill(pid, syscall.SIGCONT)
		}
	})
	sshtest.WaitFor(t, "the silent connection to be dropped", func() bool {
		h.c.mu.Lock()
		defer h.c.mu.Unlock()
		return !h.c.cur.alive()
	})
	if _, err := h.Lstat(context.Background(), "/"); err != nil {
		t.Fatalf("after the keepalives failed: %v", err)
	}
}

func TestHostPort(t *testing.T) {
	tests := []struct{ address, want, wantErr string }{
		{address: "fs1.example.net", want: "fs1.example.net:22"},
		{address: "10.1.2.3:2222", want: "10.1.2.3:2222"},
		{address: "10.1.2.3", want: "10.1.2.3:22"},
		{address: "::1", want: "[::1]:22"},
		{address: "[::1]", want: "[::1]:22"},
		{address: "[fe80::1]:2222", want: "[fe80::1]:2222"},
		{address: "fs1:0", wantErr: `"0" is not a port number`},
		{address: "fs1:99999", wantErr: `"99999" is not a port number`},
		{address: "fs1:ssh", wantErr: `"ssh" is not a port number`},
		{address: ":22", wantErr: "not a host name"},
		{address: "fs1/x", wantErr: "not a host name"},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			got, err := hostPort(tt.address)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("hostPort(%q) = %q, %v; want an error saying %q", tt.address, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("hostPort(%q) = %q, %v; want %q", tt.address, got, err, tt.want)
			}
		})
	}
}

// TestConcurrentOperations runs files and commands at once over the one
// connection (multiplexed sessions and SFTP requests).
func TestConcurrentOperations(t *testing.T) {
	s := sshtest.Start(t)
	h, _ := rootedHost(t, s)
	ctx := context.Background()
	const workers = 8
	errs := make(chan error, workers)
	for i := range workers {
		go func() {
			p := "/w/" + strconv.Itoa(i)
			err := h.WriteFile(ctx, p, strings.NewReader(p), 0o644)
			var out bytes.Buffer
			if err == nil {
				_, err = h.Run(ctx, []string{"cat", "--", "." + p}, host.RunOptions{Dir: "/", Stdout: &out})
			}
			if err == nil && out.String() != p {
				err = errors.New("cat " + p + " printed " + out.String())
			}
			errs <- err
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(sshdPIDs(t, s)); n > 2 {
		t.Errorf("%d sshd processes serve the host: want one connection (a monitor and its session process)", n)
	}
}

// TestOpenFileCrash crashes sshd under open files: a handle is not
// reopened on another connection, and its errors name the host, the path
// and the connection that ended, while the next operation, sshd back,
// dials again.
func TestOpenFileCrash(t *testing.T) {
	s := sshtest.Start(t)
	h, _ := rootedHost(t, s)
	ctx := context.Background()
	if err := h.WriteFile(ctx, "/disk.img", strings.NewReader("before"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := h.OpenFile(ctx, "/disk.img", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	tmp, tmpName, err := h.CreateTemp(ctx, "/new.img")
	if err != nil {
		t.Fatal(err)
	}
	s.Crash(t)
	ops := []struct {
		name, path string
		op         func() error
	}{
		{"write", "/disk.img", func() error { _, err := f.WriteAt([]byte("after"), 0); return err }},
		{"read", "/disk.img", func() error { _, err := f.ReadAt(make([]byte, 4), 0); return err }},
		{"sync", "/disk.img", f.Sync},
		{"truncate", "/disk.img", func() error { return f.Truncate(0) }},
		{"write to a temp file", tmpName, func() error { _, err := tmp.Write([]byte("new")); return err }},
	}
	for _, tt := range ops {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if err == nil {
				t.Fatal("no error with the connection gone")
			}
			if !errors.Is(err, host.ErrUnreachable) {
				t.Errorf("the error is not host.ErrUnreachable: %v", err)
			}
			for _, want := range []string{`host "fs1"`, tt.path, "the connection to " + s.Addr + " ended"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not say %q: %v", want, err)
				}
			}
		})
	}
	t.Run("another operation", func(t *testing.T) {
		_, err := h.ReadFile(ctx, "/disk.img")
		if !errors.Is(err, host.ErrUnreachable) || !strings.Contains(err.Error(), s.Addr) {
			t.Errorf("err = %v, want host.ErrUnreachable naming %s", err, s.Addr)
		}
	})
	s.Restart(t)
	if b, err := h.ReadFile(ctx, "/disk.img"); err != nil || string(b) != "before" {
		t.Errorf("after sshd came back: %q, %v", b, err)
	}
}
