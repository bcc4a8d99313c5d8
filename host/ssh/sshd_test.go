package ssh

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/sshtest"
)

// options are the settings that reach this server as its user, with the
// agent cached in the server's folder rather than the user's home.
func options(s *sshtest.Server, name string) Options {
	return Options{Name: name, Address: s.Addr, User: s.User, IdentityFile: s.Identity, KnownHosts: s.KnownHosts,
		AgentCache: filepath.Join(s.Dir, "agent-cache")}
}

// connect opens a host on s, closed when the test ends.
func connect(t *testing.T, opts Options) *Host {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}
