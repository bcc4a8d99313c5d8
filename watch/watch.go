package watch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/ssh"
	"github.com/drover-dr/drover/planner"
	xssh "golang.org/x/crypto/ssh"
)

// Kind is what an event tells.
type Kind string

const (
	// Up is a heartbeat answered.
	Up Kind = "up"
	// Missed is a heartbeat not answered; Event.Missed counts those in a row.
	Missed Kind = "missed"
	// Back is the first heartbeat answered after missed ones.
	Back Kind = "back"
	// WitnessReaches says the witness still reaches the heartbeat host:
	// nothing is taken over.
	WitnessReaches Kind = "witness_reaches"
	// WitnessUnreachable says the witness could not be asked: nothing is
	// taken over.
	WitnessUnreachable Kind = "witness_unreachable"
	// Due says the runbook is to run now.
	Due Kind = "due"
)

// Event is one thing the watch saw.
type Event struct {
	Time time.Time
	Kind Kind
	// Host is the host the event is about: the heartbeat host, or the
	// witness for the witness events.
	Host string
	// Missed is the count of heartbeats missed in a row, of Of.
	Missed, Of int
	// Detail says why: the error of a missed beat, what the witness saw.
	Detail string
}

// Watcher watches one trigger.
type Watcher struct {
	Trigger *planner.Trigger
	// Probe is one heartbeat; nil is an SSH handshake (Handshake).
	Probe func(ctx context.Context, c host.Config, timeout time.Duration) error
	// Witness asks the witness w whether it reaches addr; nil is Reaches.
	Witness func(ctx context.Context, w host.Config, addr string, timeout time.Duration) (bool, error)
}

// ErrImpostor wraps the host key errors of a heartbeat: something answers
// at the host's address with a key other than the one known.
var ErrImpostor = errors.New("the heartbeat host answers with a host key other than the one known")

// Run watches until the runbook is due (it returns nil), ctx ends (ctx's
// error), or the host answers with another host key (an error wrapping
// ErrImpostor). Each heartbeat and each opinion asked is reported to
// report.
func (w *Watcher) Run(ctx context.Context, report func(Event)) error {
	t := w.Trigger
	probe, witness := w.Probe, w.Witness
	if probe == nil {
		probe = Handshake
	}
	if witness == nil {
		witness = Reaches
	}
	// A beat may take as long as the interval, and never less than a
	// handshake needs on a loaded network.
	timeout := max(t.Interval, 3*time.Second)
	missed := 0
	tick := time.NewTicker(t.Interval)
	defer tick.Stop()
	for {
		ev := Event{Host: t.Heartbeat.Name, Of: t.Missed}
		err := probe(ctx, t.Heartbeat, timeout)
		ev.Time = time.Now()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case isImpostor(err):
			return fmt.Errorf("%w: %w; not failing over: find out who answers at %s before anything else", ErrImpostor, err, t.Heartbeat.Address)
		case err == nil || answered(err):
			ev.Kind = Up
			if missed > 0 {
				ev.Kind, ev.Missed = Back, missed
			}
			if err != nil {
				ev.Detail = fmt.Sprintf("it answers, though: %s", err)
			}
			missed = 0
			report(ev)
		default:
			missed++
			ev.Kind, ev.Missed, ev.Detail = Missed, missed, err.Error()
			report(ev)
			if missed >= t.Missed && w.due(ctx, witness, timeout, report) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// due asks the witness, if any, and says whether the runbook is to run.
func (w *Watcher) due(ctx context.Context, witness func(context.Context, host.Config, string, time.Duration) (bool, error), timeout time.Duration, report func(Event)) bool {
	t := w.Trigger
	if t.Witness == nil {
		report(Event{Time: time.Now(), Kind: Due, Host: t.Heartbeat.Name, Missed: t.Missed, Of: t.Missed,
			Detail: fmt.Sprintf("%d heartbeats missed in a row", t.Missed)})
		return true
	}
	ev := Event{Host: t.Witness.Name, Missed: t.Missed, Of: t.Missed}
	reaches, err := witness(ctx, *t.Witness, t.Heartbeat.Address, timeout)
	ev.Time = time.Now()
	switch {
	case ctx.Err() != nil:
		return false
	case err != nil:
		ev.Kind, ev.Detail = WitnessUnreachable, err.Error()
	case reaches:
		ev.Kind, ev.Detail = WitnessReaches, fmt.Sprintf("witness %q reaches %s: this machine, not %q, may be cut off", t.Witness.Name, t.Heartbeat.Address, t.Heartbeat.Name)
	default:
		report(Event{Time: ev.Time, Kind: Due, Host: t.Heartbeat.Name, Missed: t.Missed, Of: t.Missed,
			Detail: fmt.Sprintf("%d heartbeats missed in a row, and witness %q cannot reach %s either", t.Missed, t.Witness.Name, t.Heartbeat.Address)})
		return true
	}
	report(ev)
	return false
}

// answered says the machine took part in the handshake: it refused the
// login, so it is up. Anything else that went wrong (no connection, a
// handshake that never finished) is a missed beat.
func answered(err error) bool {
	var auth *ssh.AuthError
	return errors.As(err, &auth)
}

func isImpostor(err error) bool {
	var changed *ssh.ChangedHostKeyError
	var unknown *ssh.UnknownHostKeyError
	var revoked *ssh.RevokedHostKeyError
	return errors.As(err, &changed) || errors.As(err, &unknown) || errors.As(err, &revoked)
}

// Handshake is a heartbeat: an SSH connection to c, its host key
// verified and the login tried, closed at once.
func Handshake(ctx context.Context, c host.Config, timeout time.Duration) error {
	opts := ssh.OptionsOf(c)
	opts.ConnectTimeout = timeout
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h, err := ssh.New(ctx, opts)
	if err != nil {
		return err
	}
	return h.Close()
}

// Reaches asks the witness w whether it reaches addr: it connects there
// from w's machine and waits for an SSH server's greeting.
func Reaches(ctx context.Context, w host.Config, addr string, timeout time.Duration) (bool, error) {
	opts := ssh.OptionsOf(w)
	opts.ConnectTimeout = timeout
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h, err := ssh.New(ctx, opts)
	if err != nil {
		return false, err
	}
	defer h.Close()
	nc, err := h.DialTCP(ctx, addr)
	var refused *xssh.OpenChannelError
	switch {
	case errors.As(err, &refused):
		return false, nil
	case err != nil:
		return false, err
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(nc).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-"), nil
}
