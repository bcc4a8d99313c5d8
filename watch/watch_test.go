package watch

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/sshtest"
	"github.com/drover-dr/drover/planner"
	xssh "golang.org/x/crypto/ssh"
)

func configOf(name string, s *sshtest.Server) host.Config {
	return host.Config{Name: name, Transport: "ssh", Address: s.Addr, User: s.User, IdentityFile: s.Identity,
		HostKey: strings.TrimSpace(string(xssh.MarshalAuthorizedKey(s.HostKey)))}
}

// kinds renders events as "KIND HOST MISSED".
func kinds(evs []Event) []string {
	var out []string
	for _, e := range evs {
		s := string(e.Kind) + " " + e.Host
		if e.Missed > 0 {
			s += " " + strconv.Itoa(e.Missed)
		}
		out = append(out, s)
	}
	return out
}

func TestWatch(t *testing.T) {
	fs1, w := sshtest.Start(t), sshtest.Start(t)
	cut := func(ctx context.Context, c host.Config, timeout time.Duration) error {
		// This machine cut off from fs1: a partition, which one machine
		// playing all three cannot make with real sockets.
		return host.ErrUnreachable
	}
	for _, tc := range []struct {
		name string
		// crash lists the servers down before the watch starts.
		crash   []*sshtest.Server
		witness bool
		probe   func(context.Context, host.Config, time.Duration) error
		want    []string
		due     bool
	}{
		{name: "down, no witness", crash: []*sshtest.Server{fs1},
			want: []string{"missed fs1 1", "missed fs1 2", "due fs1 2"}, due: true},
		{name: "down, the witness cannot reach it either", crash: []*sshtest.Server{fs1}, witness: true,
			want: []string{"missed fs1 1", "missed fs1 2", "due fs1 2"}, due: true},
		{name: "this machine cut off, the witness reaches it", witness: true, probe: cut,
			want: []string{"missed fs1 1", "missed fs1 2", "witness_reaches w 2", "missed fs1 3", "witness_reaches w 2"}},
		{name: "down, the witness down too", crash: []*sshtest.Server{fs1, w}, witness: true,
			want: []string{"missed fs1 1", "missed fs1 2", "witness_unreachable w 2", "missed fs1 3", "witness_unreachable w 2"}},
		{name: "up", want: []string{"up fs1", "up fs1", "up fs1", "up fs1", "up fs1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range tc.crash {
				s.Crash(t)
			}
			defer func() {
				for _, s := range tc.crash {
					s.Restart(t)
				}
			}()
			trig := &planner.Trigger{Runbook: "failover", Heartbeat: configOf("fs1", fs1), Interval: 50 * time.Millisecond, Missed: 2}
			if tc.witness {
				wc := configOf("w", w)
				trig.Witness = &wc
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var evs []Event
			err := (&Watcher{Trigger: trig, Probe: tc.probe}).Run(ctx, func(e Event) {
				evs = append(evs, e)
				if len(evs) == len(tc.want) {
					cancel()
				}
			})
			if tc.due != (err == nil) {
				t.Fatalf("Run = %v, want due %v", err, tc.due)
			}
			got := kinds(evs)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// A machine that comes back before the count is reached is back, and the
// count starts again.
func TestWatchBack(t *testing.T) {
	fs1 := sshtest.Start(t)
	fs1.Crash(t)
	trig := &planner.Trigger{Runbook: "failover", Heartbeat: configOf("fs1", fs1), Interval: 50 * time.Millisecond, Missed: 100}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var evs []Event
	(&Watcher{Trigger: trig}).Run(ctx, func(e Event) {
		evs = append(evs, e)
		switch e.Kind {
		case Missed:
			if e.Missed == 2 {
				fs1.Restart(t)
			}
		case Back:
			cancel()
		}
	})
	last := evs[len(evs)-1]
	if last.Kind != Back || last.Missed < 2 {
		t.Errorf("last event %+v, want back after 2 or more missed", last)
	}
}

// Another key at the heartbeat's address stops the watch: an impostor is
// never a reason to take over.
func TestWatchImpostor(t *testing.T) {
	fs1, other := sshtest.Start(t), sshtest.Start(t)
	c := configOf("fs1", fs1)
	c.HostKey = strings.TrimSpace(string(xssh.MarshalAuthorizedKey(other.HostKey)))
	trig := &planner.Trigger{Runbook: "failover", Heartbeat: c, Interval: 50 * time.Millisecond, Missed: 2}
	err := (&Watcher{Trigger: trig}).Run(context.Background(), func(Event) {})
	if !errors.Is(err, ErrImpostor) || !strings.Contains(err.Error(), "not failing over") {
		t.Errorf("Run = %v, want ErrImpostor", err)
	}
}
