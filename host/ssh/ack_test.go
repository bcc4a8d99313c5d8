//go:build linux

package ssh

import (
	"context"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/sshtest"
)

// TestFirstSessionNotDelayed opens the first session of new connections:
// sshd confirms it behind messages it sends unasked after the login, each
// held until this side acknowledges the one before (ack_linux.go), which a
// delayed acknowledgement made 40 ms. The best of a few counts, for a
// loaded machine.
func TestFirstSessionNotDelayed(t *testing.T) {
	s := sshtest.Start(t)
	opts := options(s, "fs1")
	opts.NoAgent = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	best := time.Hour
	for range 5 {
		h := connect(t, opts)
		cn, release, err := h.c.get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		sess, err := cn.ssh.NewSession()
		best = min(best, time.Since(start))
		if err != nil {
			t.Fatal(err)
		}
		sess.Close()
		release()
		h.Close()
	}
	// A delayed acknowledgement takes at least 40 ms (Linux's TCP_ATO_MIN).
	if best >= 30*time.Millisecond {
		t.Errorf("the first session of a connection took %s at best, want well under the 40 ms of a delayed acknowledgement", best)
	}
}
