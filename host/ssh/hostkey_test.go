package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/sshtest"
	"github.com/google/go-cmp/cmp"
	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func dial(opts Options) (*Host, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := New(ctx, opts)
	if err == nil {
		h.Close()
	}
	return h, err
}

func otherKey(t *testing.T) xssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := xssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestHostKeys(t *testing.T) {
	s := sshtest.Start(t)
	line := func(key xssh.PublicKey) string { return knownhosts.Line([]string{s.Addr}, key) }
	fingerprint := xssh.FingerprintSHA256(s.HostKey)
	host, port, _ := strings.Cut(s.Addr, ":")
	other := otherKey(t)

	tests := []struct {
		name       string
		knownHosts string // "" leaves the file missing
		pin        string
		want       string // "" for accepted, else "unknown", "changed" or "revoked"
	}{
		{name: "known", knownHosts: line(s.HostKey)},
		{name: "hashed entry", knownHosts: knownhosts.HashHostname(knownhosts.Normalize(s.Addr)) + " " + strings.TrimSpace(string(xssh.MarshalAuthorizedKey(s.HostKey)))},
		{name: "wildcard entry", knownHosts: "[127.0.0.*]:" + port + " " + strings.TrimSpace(string(xssh.MarshalAuthorizedKey(s.HostKey)))},
		{name: "only the server's other key type known", knownHosts: line(s.ECDSAKey)},
		{name: "missing known_hosts", want: "unknown"},
		{name: "empty known_hosts", knownHosts: "# nothing yet", want: "unknown"},
		{name: "entry for another port", knownHosts: host + " " + strings.TrimSpace(string(xssh.MarshalAuthorizedKey(s.HostKey))), want: "unknown"},
		{name: "changed", knownHosts: "# first\n" + line(other), want: "changed"},
		{name: "revoked", knownHosts: line(s.HostKey) + "\n@revoked * " + strings.TrimSpace(string(xssh.MarshalAuthorizedKey(s.HostKey))), want: "revoked"},
		{name: "pinned key", knownHosts: line(other), pin: string(xssh.MarshalAuthorizedKey(s.HostKey))},
		{name: "pinned key differs", knownHosts: line(s.HostKey), pin: string(xssh.MarshalAuthorizedKey(other)), want: "changed"},
		{name: "pinned fingerprint", pin: fingerprint, want: "not a fingerprint"},
		{name: "pin not a key", pin: "ssh-ed25519 garbage", want: "is not a public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := options(s, "fs1")
			opts.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
			opts.HostKey = tt.pin
			if tt.knownHosts != "" {
				sshtest.WriteFile(t, opts.KnownHosts, tt.knownHosts+"\n")
			}
			_, err := dial(opts)
			var unknown *UnknownHostKeyError
			var changed *ChangedHostKeyError
			var revoked *RevokedHostKeyError
			switch tt.want {
			case "":
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			case "unknown":
				if !errors.As(err, &unknown) {
					t.Fatalf("err = %v, want an UnknownHostKeyError", err)
				}
				want := &UnknownHostKeyError{Address: s.Addr, KeyType: unknown.KeyType, Fingerprint: xssh.FingerprintSHA256(keyOfType(s, unknown.KeyType)),
					Line: line(keyOfType(s, unknown.KeyType)), KnownHosts: opts.KnownHosts}
				if diff := cmp.Diff(want, unknown); diff != "" {
					t.Errorf("UnknownHostKeyError (-want +got):\n%s", diff)
				}
				if !strings.HasPrefix(err.Error(), `host "fs1": the host key of `) {
					t.Errorf("the error does not start with the host and what is wrong:\n%s", err)
				}
				for _, part := range []string{`host "fs1"`, want.Fingerprint, "\n" + want.Line + "\n", opts.KnownHosts, "nothing was done", "--trust-new-host-keys"} {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("the error does not say %q:\n%s", part, err)
					}
				}
				// The line it gives is the line that makes the key known.
				f, _ := os.OpenFile(opts.KnownHosts, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
				f.WriteString(unknown.Line + "\n")
				f.Close()
				if _, err := dial(opts); err != nil {
					t.Errorf("refused after adding the line the error gave: %v", err)
				}
			case "changed":
				if !errors.As(err, &changed) {
					t.Fatalf("err = %v, want a ChangedHostKeyError", err)
				}
				for _, part := range []string{"HAS CHANGED", changed.Fingerprint, "man in the middle", "Nothing was done"} {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("the error does not say %q:\n%s", part, err)
					}
				}
				if tt.pin == "" && !strings.Contains(err.Error(), opts.KnownHosts+":2") {
					t.Errorf("the error does not name the known_hosts line:\n%s", err)
				}
			case "revoked":
				if !errors.As(err, &revoked) || !strings.Contains(err.Error(), "revoked") || revoked.Fingerprint != fingerprint {
					t.Fatalf("err = %v, want a RevokedHostKeyError for %s", err, fingerprint)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want one saying %q", err, tt.want)
				}
			}
		})
	}
}

// keyOfType is the server's host key of that type.
func keyOfType(s *sshtest.Server, typ string) xssh.PublicKey {
	if typ == s.ECDSAKey.Type() {
		return s.ECDSAKey
	}
	return s.HostKey
}

func TestTrustNewHostKeys(t *testing.T) {
	s := sshtest.Start(t)
	opts := options(s, "fs1")
	// known_hosts in a folder not made yet, as ~/.ssh on a new machine.
	opts.KnownHosts = filepath.Join(t.TempDir(), "ssh", "known_hosts")
	opts.TrustNewHostKeys = true
	h := connect(t, opts)
	recorded := h.RecordedHostKeys()
	if len(recorded) != 1 {
		t.Fatalf("RecordedHostKeys() = %v, want one key", recorded)
	}
	key := keyOfType(s, strings.Fields(recorded[0].Line)[1])
	want := RecordedHostKey{Address: s.Addr, Fingerprint: xssh.FingerprintSHA256(key), KnownHosts: opts.KnownHosts, Line: knownhosts.Line([]string{s.Addr}, key)}
	if diff := cmp.Diff(want, recorded[0]); diff != "" {
		t.Errorf("RecordedHostKeys (-want +got):\n%s", diff)
	}
	b, err := os.ReadFile(opts.KnownHosts)
	if err != nil || string(b) != want.Line+"\n" {
		t.Errorf("known_hosts holds %q, %v; want the recorded line", b, err)
	}
	// Known now: a second connection trusts nothing new.
	opts.TrustNewHostKeys = false
	if h2 := connect(t, opts); len(h2.RecordedHostKeys()) != 0 {
		t.Errorf("a known key was recorded again")
	}
	// A changed key is refused even when new keys are trusted.
	sshtest.WriteFile(t, opts.KnownHosts, "# a comment kept\n"+knownhosts.Line([]string{s.Addr}, otherKey(t))+"\n")
	opts.TrustNewHostKeys = true
	var changed *ChangedHostKeyError
	if _, err := dial(opts); !errors.As(err, &changed) {
		t.Errorf("a changed key with TrustNewHostKeys: %v, want a ChangedHostKeyError", err)
	}
	if b, _ := os.ReadFile(opts.KnownHosts); !strings.HasPrefix(string(b), "# a comment kept\n") || strings.Count(string(b), "\n") != 2 {
		t.Errorf("known_hosts changed after a refused key:\n%s", b)
	}
}
