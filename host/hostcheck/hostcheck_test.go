package hostcheck

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/sshtest"
	"github.com/google/go-cmp/cmp"
)

func statuses(r Result) map[string]string {
	out := map[string]string{}
	for _, s := range r.Steps {
		out[s.Name] = s.Status.String()
	}
	return out
}

func TestCheck(t *testing.T) {
	s := sshtest.Start(t)
	dir := t.TempDir()
	ok := host.Config{Name: "fs1", Address: s.Addr, User: s.User, IdentityFile: s.Identity, KnownHosts: s.KnownHosts, Root: filepath.Join(dir, "fs1")}
	unknown := ok
	unknown.Name, unknown.KnownHosts = "unknown", filepath.Join(dir, "empty_known_hosts")
	trusted := unknown
	trusted.Name, trusted.KnownHosts = "trusted", filepath.Join(dir, "trusted_known_hosts")
	wrongUser := ok
	wrongUser.Name, wrongUser.User = "wrong-user", "nosuchuser"
	noKey := ok
	noKey.Name, noKey.IdentityFile = "no-key", filepath.Join(dir, "missing")
	down := ok
	down.Name, down.Address = "down", "127.0.0.1:1"
	local := host.Config{Name: "local", Root: filepath.Join(dir, "local")}

	all := []host.Config{ok, unknown, wrongUser, noKey, down, local}
	results := Check(context.Background(), all, Options{Privileges: true})
	yes, no, none := "yes", "no", "-"
	want := map[string]map[string]string{
		"fs1":        {"reachable": yes, "host_key": yes, "login": yes, "write": yes, "run": yes, "superuser": yes, "agent": no},
		"unknown":    {"reachable": yes, "host_key": no, "login": none, "write": none, "run": none, "superuser": none, "agent": none},
		"wrong-user": {"reachable": yes, "host_key": yes, "login": no, "write": none, "run": none, "superuser": none, "agent": none},
		"no-key":     {"reachable": none, "host_key": none, "login": no, "write": none, "run": none, "superuser": none, "agent": none},
		"down":       {"reachable": no, "host_key": none, "login": none, "write": none, "run": none, "superuser": none, "agent": none},
		"local":      {"reachable": none, "host_key": none, "login": none, "write": yes, "run": yes, "superuser": yes, "agent": yes},
	}
	for i, r := range results {
		t.Run(all[i].Name, func(t *testing.T) {
			if r.Host.Name != all[i].Name {
				t.Fatalf("result %d is of %s", i, r.Host.Name)
			}
			if diff := cmp.Diff(want[r.Host.Name], statuses(r)); diff != "" {
				t.Errorf("steps (-want +got):\n%s\n%v", diff, r.Err)
			}
			if usable := r.Err == nil; usable != (r.Host.Name == "fs1" || r.Host.Name == "local") {
				t.Errorf("Err = %v", r.Err)
			}
		})
	}
	// The privileges were proved leaving nothing behind.
	for _, root := range []string{ok.Root, local.Root} {
		entries, err := os.ReadDir(root)
		if err != nil || len(entries) != 0 {
			t.Errorf("%s holds %v (%v), want nothing", root, entries, err)
		}
	}

	t.Run("a key recorded before a refused login", func(t *testing.T) {
		c := wrongUser
		c.KnownHosts = filepath.Join(dir, "refused_known_hosts")
		r := Check(context.Background(), []host.Config{c}, Options{TrustNewHostKeys: true})[0]
		if r.Err == nil || r.Step("login").Status != Failed || len(r.Recorded) != 1 {
			t.Fatalf("Err = %v, login %s, recorded %v; want a refused login and the key told", r.Err, r.Step("login").Status, r.Recorded)
		}
	})

	// Before planning only the connection is proved (verifyHosts): the
	// same first steps, and no session opened on the machine, which the
	// run's providers then connect to again.
	t.Run("the connection only", func(t *testing.T) {
		const sftpRequest = "Starting session: subsystem 'sftp'"
		before := strings.Count(s.Log.String(), sftpRequest)
		conn := []host.Config{ok, unknown, wrongUser, noKey, down}
		results := Check(context.Background(), conn, Options{})
		for i, r := range results {
			want := maps.Clone(want[conn[i].Name])
			for _, name := range Steps[3:] {
				want[name] = none
			}
			if diff := cmp.Diff(want, statuses(r)); diff != "" {
				t.Errorf("%s: steps (-want +got):\n%s\n%v", conn[i].Name, diff, r.Err)
			}
			if usable := r.Err == nil; usable != (r.Host.Name == "fs1") {
				t.Errorf("%s: Err = %v", conn[i].Name, r.Err)
			}
		}
		if n := strings.Count(s.Log.String(), sftpRequest) - before; n != 0 {
			t.Errorf("the check started SFTP %d times on the machine, want none:\n%s", n, s.Log.String())
		}
	})

	t.Run("trust new host keys", func(t *testing.T) {
		r := Check(context.Background(), []host.Config{trusted}, Options{TrustNewHostKeys: true})[0]
		if r.Err != nil || len(r.Recorded) != 1 {
			t.Fatalf("Err = %v, recorded %v", r.Err, r.Recorded)
		}
		b, err := os.ReadFile(trusted.KnownHosts)
		if err != nil || strings.TrimSpace(string(b)) != r.Recorded[0].Line {
			t.Errorf("known_hosts holds %q (%v), want %q", b, err, r.Recorded[0].Line)
		}
	})
}

// TestCheckWithoutSFTP checks a machine whose sshd serves no SFTP: the
// host's operations need it where the agent does not serve them, so the
// check of what providers need fails at the login, saying what to enable;
// the check of the connection alone passes, as it opens no session.
func TestCheckWithoutSFTP(t *testing.T) {
	s := sshtest.Start(t)
	config := filepath.Join(s.Dir, "sshd_config")
	b, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	noSFTP := strings.Replace(string(b), "Subsystem sftp internal-sftp\n", "", 1)
	if noSFTP == string(b) {
		t.Fatalf("sshtest's sshd_config has no sftp subsystem line to remove:\n%s", b)
	}
	if err := os.WriteFile(config, []byte(noSFTP), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Crash(t)
	s.Restart(t)
	c := host.Config{Name: "fs1", Address: s.Addr, User: s.User, IdentityFile: s.Identity, KnownHosts: s.KnownHosts, Root: filepath.Join(t.TempDir(), "fs1")}

	r := Check(context.Background(), []host.Config{c}, Options{Privileges: true})[0]
	yes, no, none := "yes", "no", "-"
	want := map[string]string{"reachable": yes, "host_key": yes, "login": no, "write": none, "run": none, "superuser": none, "agent": none}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("steps (-want +got):\n%s\n%v", diff, r.Err)
	}
	if r.Err == nil || !strings.Contains(r.Step("login").Detail, "sftp subsystem") {
		t.Errorf("Err = %v, login detail %q; want the sftp subsystem named", r.Err, r.Step("login").Detail)
	}

	r = Check(context.Background(), []host.Config{c}, Options{})[0]
	if r.Err != nil || r.Step("login").Status != Passed {
		t.Errorf("the connection alone: Err = %v, login %s; want it to pass", r.Err, r.Step("login").Status)
	}
}

// TestCheckHangUp checks machines that accept the connection and then
// close it during the SSH handshake, as a real listener does here: before
// a word, after the SSH banner, and with a reset. Each machine is
// reachable; the host key, which the handshake was to prove, is not, and
// the words say what happened and what to check.
func TestCheckHangUp(t *testing.T) {
	dir := t.TempDir()
	sshtest.WriteKey(t, filepath.Join(dir, "id"))
	for _, tc := range []struct {
		name          string
		banner, reset bool
		want          string
	}{
		{"before the banner", false, false, "closed the connection before the SSH handshake began (it sent no SSH banner"},
		{"after the banner", true, false, "closed the connection during the SSH handshake, before authentication"},
		{"reset", false, true, "closed the connection before the SSH handshake began (it sent no SSH banner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			go func() {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				r := bufio.NewReader(c)
				if tc.banner {
					io.WriteString(c, "SSH-2.0-OpenSSH_9.2p1\r\n")
				}
				// Read what the client sends before it waits for the
				// server (its version line, and its first packet after
				// a banner): a close with bytes unread would reset the
				// connection instead of ending it.
				r.ReadString('\n')
				if tc.banner {
					var size [4]byte
					io.ReadFull(r, size[:])
					io.CopyN(io.Discard, r, int64(binary.BigEndian.Uint32(size[:])))
				}
				if tc.reset {
					c.(*net.TCPConn).SetLinger(0)
				}
			}()
			c := host.Config{Name: "fs1", Address: l.Addr().String(), User: "root", IdentityFile: filepath.Join(dir, "id"), KnownHosts: filepath.Join(dir, "known_hosts")}
			r := Check(context.Background(), []host.Config{c}, Options{})[0]
			want := map[string]string{"reachable": "yes", "host_key": "no", "login": "-", "write": "-", "run": "-", "superuser": "-", "agent": "-"}
			if diff := cmp.Diff(want, statuses(r)); diff != "" {
				t.Errorf("steps (-want +got):\n%s\n%v", diff, r.Err)
			}
			if r.Err == nil || !strings.Contains(r.Step("host_key").Detail, tc.want) || !strings.Contains(r.Err.Error(), "sshd's log") {
				t.Errorf("Err = %v\nhost_key detail %q\nwant %q, and what to check", r.Err, r.Step("host_key").Detail, tc.want)
			}
			if !errors.Is(r.Err, host.ErrUnreachable) {
				t.Errorf("Err = %v, want host.ErrUnreachable for providers, which stop at it", r.Err)
			}
		})
	}
}
