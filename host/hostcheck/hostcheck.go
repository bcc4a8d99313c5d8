package hostcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/ssh"
)

// Options shape a check.
type Options struct {
	// TrustNewHostKeys records a host key known_hosts does not know yet
	// (Result.Recorded lists each); a changed or revoked key is refused
	// all the same.
	TrustNewHostKeys bool
	// Privileges also checks what providers need on each host, local
	// hosts included.
	Privileges bool
}

// Step is one thing checked on a host, in order: a failed step leaves
// the steps after it not done.
type Step struct {
	// Name is one of the Steps names.
	Name   string
	Status Status
	// Detail says why a step failed.
	Detail string
}

// Status is how a step went.
type Status int

const (
	NotDone Status = iota
	Passed
	Failed
)

func (s Status) String() string {
	return [...]string{"-", "yes", "no"}[s]
}

// Steps names the steps, in order; the privilege steps follow the
// connection's. Needs says who needs each privilege.
var (
	Steps = []string{"reachable", "host_key", "login", "write", "run", "superuser", "agent"}
	Needs = map[string]string{
		"write":     "file, drive, drive_copy, replication_set, registry_capture, boot_entry (below the host's root)",
		"run":       "boot_entry, registry imports, boot switching and runbook steps",
		"superuser": "drives and boot entries on real devices and boot loaders",
		"agent":     "ip_address and vm_guest on SSH hosts; drive hashing, tree scans and watches on the machine instead of through SFTP",
	}
)

// Result is what was found on one host.
type Result struct {
	Host  host.Config
	Steps []Step
	// Recorded lists the host keys that TrustNewHostKeys added to
	// known_hosts, for the caller to show every one.
	Recorded []ssh.RecordedHostKey
	// Err is why the host cannot be used (nil when it can); privileges
	// missing are not errors, as not every host needs each.
	Err error
}

// Step returns the step called name.
func (r Result) Step(name string) Step {
	for _, s := range r.Steps {
		if s.Name == name {
			return s
		}
	}
	return Step{Name: name}
}

// Check checks every host of hosts at once; local hosts are only checked
// for privileges, as nothing is reached to use them. Results are in the
// order of hosts.
func Check(ctx context.Context, hosts []host.Config, opts Options) []Result {
	out := make([]Result, len(hosts))
	var wg sync.WaitGroup
	for i, c := range hosts {
		wg.Go(func() { out[i] = check(ctx, c, opts) })
	}
	wg.Wait()
	return out
}

// Remote reports whether c is reached over a connection: the hosts a run
// checks before planning.
func Remote(c host.Config) bool {
	return c.EffectiveTransport() != "local"
}

func check(ctx context.Context, c host.Config, opts Options) Result {
	r := Result{Host: c}
	for _, name := range Steps {
		r.Steps = append(r.Steps, Step{Name: name})
	}
	set := func(name string, st Status, detail string) {
		for i := range r.Steps {
			if r.Steps[i].Name == name {
				r.Steps[i].Status, r.Steps[i].Detail = st, detail
			}
		}
	}
	var h host.Host
	if Remote(c) {
		o := ssh.OptionsOf(c)
		o.TrustNewHostKeys = opts.TrustNewHostKeys
		// Told as recorded: a login refused after the key was recorded
		// leaves no Host to ask, and a recorded key is never kept silent.
		o.HostKeyRecorded = func(k ssh.RecordedHostKey) { r.Recorded = append(r.Recorded, k) }
		// Without the privilege steps the connection is all there is to
		// prove: ssh.Verify hangs up once logged in, sparing the check
		// the agent's preparation.
		var sh *ssh.Host
		var err error
		if opts.Privileges {
			// SFTP is proved with the login, as the host's operations
			// need it where the agent does not serve them; the agent,
			// which the privilege steps use, starts meanwhile.
			if sh, err = ssh.New(ctx, o); err == nil {
				var agent sync.WaitGroup
				agent.Go(func() { host.CanCall(ctx, sh) })
				err = sh.CheckSFTP(ctx)
				agent.Wait()
				if err != nil {
					sh.Close()
					sh = nil
				}
			}
		} else {
			err = ssh.Verify(ctx, o)
		}
		if err != nil {
			r.Err = err
			failed(err, set)
			return r
		}
		for _, s := range Steps[:3] {
			set(s, Passed, "")
		}
		if sh == nil {
			return r
		}
		defer sh.Close()
		h = sh
	} else {
		if errs := c.Check(); len(errs) > 0 {
			r.Err = errors.New(errs[0].Detail)
			return r
		}
		h = host.NewLocal(c.Name, c.Root)
		defer h.Close()
	}
	if opts.Privileges {
		privileges(ctx, h, set)
	}
	return r
}

// failed marks the step the connection failed at.
func failed(err error, set func(string, Status, string)) {
	var op *net.OpError
	var auth *ssh.AuthError
	var unknown *ssh.UnknownHostKeyError
	var changed *ssh.ChangedHostKeyError
	var revoked *ssh.RevokedHostKeyError
	var closed *ssh.HandshakeClosedError
	switch {
	case errors.As(err, &unknown), errors.As(err, &changed), errors.As(err, &revoked):
		set("reachable", Passed, "")
		set("host_key", Failed, err.Error())
	case errors.As(err, &closed):
		// The machine answered, and the handshake that proves its key
		// was cut off.
		set("reachable", Passed, "")
		set("host_key", Failed, err.Error())
	case errors.As(err, &auth):
		// An unreadable key fails before any connection.
		if auth.Refused {
			set("reachable", Passed, "")
			set("host_key", Passed, "")
		}
		set("login", Failed, err.Error())
	case errors.As(err, &op):
		set("reachable", Failed, err.Error())
	default:
		set("reachable", Passed, "")
		set("host_key", Passed, "")
		set("login", Failed, err.Error())
	}
}

// privileges proves each privilege by using it, leaving nothing behind:
// a temp file (named as walkers skip them) written and removed below the
// root, `true` run, and `id -u` read.
func privileges(ctx context.Context, h host.Host, set func(string, Status, string)) {
	probe := host.TempPath("/.drover-hosts-check")
	if err := h.WriteFile(ctx, probe, strings.NewReader("drover hosts check\n"), 0o600); err != nil {
		set("write", Failed, err.Error())
	} else if err := h.Remove(ctx, probe); err != nil {
		set("write", Failed, fmt.Sprintf("wrote %s but could not remove it: %v", probe, err))
	} else {
		set("write", Passed, "")
	}
	switch res, err := h.Run(ctx, []string{"true"}, host.RunOptions{}); {
	case err != nil:
		set("run", Failed, err.Error())
	case res.ExitCode != 0:
		set("run", Failed, fmt.Sprintf("`true` exited %d", res.ExitCode))
	default:
		set("run", Passed, "")
	}
	var out strings.Builder
	res, err := h.Run(ctx, []string{"id", "-u"}, host.RunOptions{Stdout: &out})
	switch uid := strings.TrimSpace(out.String()); {
	case err != nil || res.ExitCode != 0:
		set("superuser", Failed, fmt.Sprintf("`id -u` failed: %v (exit %d)", err, res.ExitCode))
	case uid != "0":
		set("superuser", Failed, fmt.Sprintf("the login's user id is %s, not 0 (root)", uid))
	default:
		set("superuser", Passed, "")
	}
	if err := host.CanCall(ctx, h); err != nil {
		set("agent", Failed, err.Error())
	} else {
		set("agent", Passed, "")
	}
}
