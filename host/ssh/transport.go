package ssh

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/drover-dr/drover/host"
)

// Transport is the name host blocks give this transport; an address
// implies it.
const Transport = "ssh"

func init() { host.RegisterTransport(Transport, open) }

// OptionsOf turns a host block's settings into Options. Host keys are
// verified strictly: trusting new ones is for the core's check before a
// run, which tells the user of every key it records.
func OptionsOf(c host.Config) Options {
	addr := c.Address
	if c.Port != 0 {
		addr = net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), strconv.Itoa(c.Port))
	}
	return Options{Name: c.Name, Address: addr, User: c.User, IdentityFile: c.IdentityFile,
		HostKey: c.HostKey, KnownHosts: c.KnownHosts, Root: c.Root, NoAgent: c.NoAgent}
}

// shared holds the connection of each host this process opened through
// host.Open: providers open a host for every operation, and each would
// otherwise dial and verify anew. Entries live as long as the process;
// the connector's idle timeout closes a connection nothing uses.
var shared struct {
	sync.Mutex
	hosts map[host.Config]*sharedHost
}

type sharedHost struct {
	mu sync.Mutex
	h  *Host
}

func open(ctx context.Context, c host.Config) (host.Host, error) {
	c.Transport = c.EffectiveTransport()
	shared.Lock()
	if shared.hosts == nil {
		shared.hosts = map[host.Config]*sharedHost{}
	}
	s := shared.hosts[c]
	if s == nil {
		s = &sharedHost{}
		shared.hosts[c] = s
	}
	shared.Unlock()

	// One dial per host at a time, and none for another host held up.
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		h, err := New(ctx, OptionsOf(c))
		if err != nil {
			return nil, err
		}
		s.h = h
	}
	// A handle closes nothing, as a Sub host does not: the connection
	// is the process's.
	return &Host{name: s.h.name, root: s.h.root, top: s.h.top, c: s.h.c, handle: true}, nil
}

// CloseShared ends the connections host.Open made in this process; a
// later Open dials again.
func CloseShared() error {
	shared.Lock()
	hosts := shared.hosts
	shared.hosts = nil
	shared.Unlock()
	var errs []error
	for _, s := range hosts {
		s.mu.Lock()
		if s.h != nil {
			errs = append(errs, s.h.Close())
		}
		s.mu.Unlock()
	}
	return errors.Join(errs...)
}

// expandHome makes "~" and "~/..." the home folder of the user running
// Drover, as OpenSSH reads them in its configuration.
func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
}
