package ssh

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/sshtest"
)

// A host value with an address opens this transport (registered by
// importing the package), never the local machine; hosts opened alike
// share one connection, which closing a handle leaves open.
func TestOpenThroughHost(t *testing.T) {
	s := sshtest.Start(t)
	t.Cleanup(func() { CloseShared() })
	root := filepath.Join(t.TempDir(), "fs1")
	c := host.Config{Name: "fs1", Address: s.Addr, User: s.User, IdentityFile: s.Identity, KnownHosts: s.KnownHosts, Root: root}
	h, err := host.FromValue(c.Value())
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Machine(); got != "ssh://"+s.Addr {
		t.Errorf("Machine() = %q, want the ssh machine", got)
	}
	ctx := context.Background()
	if err := h.WriteFile(ctx, "/motd", strings.NewReader("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h2, err := c.Open()
	if err != nil {
		t.Fatal(err)
	}
	if h.(*Host).c != h2.(*Host).c {
		t.Error("a second Open of the same host dialled again")
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := h2.ReadFile(ctx, "/motd"); err != nil || string(b) != "hi\n" {
		t.Errorf("after the first handle closed: %q, %v", b, err)
	}

	t.Run("port attribute", func(t *testing.T) {
		name, port, _ := strings.Cut(s.Addr, ":")
		pc := c
		pc.Address = name
		pc.Port = atoi(t, port)
		ph, err := pc.Open()
		if err != nil {
			t.Fatal(err)
		}
		if ph.Machine() != "ssh://"+s.Addr {
			t.Errorf("Machine() = %q", ph.Machine())
		}
	})

	t.Run("unreachable is never local", func(t *testing.T) {
		local := filepath.Join(t.TempDir(), "never")
		bad := host.Config{Name: "fs9", Address: "127.0.0.1:1", IdentityFile: s.Identity, KnownHosts: s.KnownHosts, Root: local}
		_, err := bad.Open()
		if err == nil || !strings.Contains(err.Error(), "connecting to 127.0.0.1:1") {
			t.Fatalf("err = %v, want a refused connection", err)
		}
		if _, err := os.Stat(local); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the local folder of the root was touched: %v", err)
		}
	})

	t.Run("strict host keys", func(t *testing.T) {
		sc := c
		sc.Root = ""
		sc.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
		_, err := sc.Open()
		var unknown *UnknownHostKeyError
		if !errors.As(err, &unknown) {
			t.Fatalf("err = %v, want an unknown host key", err)
		}
		if _, err := os.Stat(sc.KnownHosts); !errors.Is(err, os.ErrNotExist) {
			t.Error("a provider's open recorded a host key")
		}
	})
}

func TestExpandHome(t *testing.T) {
	t.Setenv("HOME", "/home/dr")
	for in, want := range map[string]string{"~": "/home/dr", "~/.ssh/id": "/home/dr/.ssh/id", "/etc/x": "/etc/x", "rel/~": "rel/~", "~other/x": "~other/x"} {
		if got, err := expandHome(in); err != nil || got != want {
			t.Errorf("expandHome(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			t.Fatalf("%q is not a number", s)
		}
		n = n*10 + int(r-'0')
	}
	return n
}
