package ssh

import (
	"context"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/sshtest"
)

// options are the settings that reach this server as its user.
func options(s *sshtest.Server, name string) Options {
	return Options{Name: name, Address: s.Addr, User: s.User, IdentityFile: s.Identity, KnownHosts: s.KnownHosts}
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
