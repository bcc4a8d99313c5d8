package mirror

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
)

// meeting is a host whose first RealPath (New's first call on it, which
// dials a remote host) returns only once the other host's has begun.
type meeting struct {
	host.Host
	once        *sync.Once
	here, there chan struct{}
}

func (m meeting) RealPath(ctx context.Context, p string) (string, error) {
	m.once.Do(func() { close(m.here) })
	select {
	case <-m.there:
		return m.Host.RealPath(ctx, p)
	case <-time.After(5 * time.Second):
		return "", errors.New("the other host was not probed meanwhile")
	}
}

// TestNewProbesHostsAtOnce: New makes its first call on the source and
// the target hosts (a dial, an agent's start) at once, not one after the
// other.
func TestNewProbesHostsAtOnce(t *testing.T) {
	e := newEnv(t)
	write(t, e.src("a.txt"), "a", t0)
	one, two := make(chan struct{}), make(chan struct{})
	src := meeting{Host: e.fs1, once: &sync.Once{}, here: one, there: two}
	dst := meeting{Host: e.fs2, once: &sync.Once{}, here: two, there: one}
	m := e.mirror(Options{Preserve: PreserveAll}, Pair{Source: Endpoint{src, "/srv/set"}, Target: Endpoint{dst, "/replica/set"}})
	e.sync(m)
	same(t, e.src(), e.dst())
}
