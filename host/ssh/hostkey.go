package ssh

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/drover-dr/drover/host"
	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// UnknownHostKeyError is a host key neither pinned nor in known_hosts.
type UnknownHostKeyError struct {
	Address     string
	KeyType     string
	Fingerprint string
	// Line is what to add to KnownHosts to trust the key.
	Line       string
	KnownHosts string
}

func (e *UnknownHostKeyError) Error() string {
	return fmt.Sprintf("the host key of %s is not known (%s %s), so nothing was done. "+
		"Check that fingerprint on the machine itself (ssh-keygen -lf on its public host key), then add this line to %s:\n%s\n"+
		"or pin the key with host_key, or accept new keys once with --trust-new-host-keys",
		e.Address, e.KeyType, e.Fingerprint, e.KnownHosts, e.Line)
}

// ChangedHostKeyError is a host key other than the one pinned or known:
// the machine was reinstalled, or someone sits between us and it.
type ChangedHostKeyError struct {
	Address     string
	KeyType     string
	Fingerprint string
	// Known names what was expected: "FILE:LINE: KEY" entries, or the pin.
	Known []string
}

func (e *ChangedHostKeyError) Error() string {
	return fmt.Sprintf("WARNING: THE HOST KEY OF %s HAS CHANGED. It now offers %s %s, while %s. "+
		"Someone may be intercepting the connection (a man in the middle), or the machine was reinstalled. "+
		"Nothing was done. If the change is expected, check the new fingerprint on the machine itself and replace the old key",
		e.Address, e.KeyType, e.Fingerprint, knownList(e.Known))
}

func knownList(known []string) string {
	if len(known) == 1 {
		return "the known key is " + known[0]
	}
	return "the known keys are " + strings.Join(known, "; ")
}

// RevokedHostKeyError is a host key marked @revoked in known_hosts.
type RevokedHostKeyError struct {
	Address     string
	Fingerprint string
	// Entry is the @revoked line, "FILE:LINE: KEY".
	Entry string
}

func (e *RevokedHostKeyError) Error() string {
	return fmt.Sprintf("the host key of %s (%s) is revoked (%s): nothing was done", e.Address, e.Fingerprint, e.Entry)
}

// RecordedHostKey is a new host key that TrustNewHostKeys added to
// known_hosts.
type RecordedHostKey struct {
	Address     string
	Fingerprint string
	KnownHosts  string
	Line        string
}

// hostKeys verifies host keys against the pin or known_hosts.
type hostKeys struct {
	addr  string
	trust bool
	// pin is the pinned key; file is known_hosts, read when there is none.
	pin  xssh.PublicKey
	file string

	// told is Options.HostKeyRecorded.
	told func(RecordedHostKey)

	mu       sync.Mutex
	recorded []RecordedHostKey
}

func newHostKeys(opts Options, addr string) (*hostKeys, error) {
	k := &hostKeys{addr: addr, trust: opts.TrustNewHostKeys, file: opts.KnownHosts, told: opts.HostKeyRecorded}
	if pin := strings.TrimSpace(opts.HostKey); pin != "" {
		// A fingerprint does not say which of the machine's keys it is of,
		// so the handshake could not ask for that key.
		if strings.HasPrefix(pin, "SHA256:") || strings.HasPrefix(pin, "MD5:") {
			return nil, fmt.Errorf("host %q: host_key takes the host's public key (\"ssh-ed25519 AAAA...\", a line of /etc/ssh/ssh_host_*_key.pub on the machine), not a fingerprint", opts.Name)
		}
		key, _, _, _, err := xssh.ParseAuthorizedKey([]byte(pin))
		if err != nil {
			return nil, fmt.Errorf("host %q: host_key is not a public key (\"ssh-ed25519 AAAA...\", a line of /etc/ssh/ssh_host_*_key.pub on the machine): %w", opts.Name, err)
		}
		k.pin = key
		return k, nil
	}
	if k.file == "" {
		f, err := homeKnownHosts()
		if err != nil {
			return nil, fmt.Errorf("host %q: no known_hosts given and no home folder to find ~/.ssh/known_hosts in: %w", opts.Name, err)
		}
		k.file = f
	}
	return k, nil
}

// database reads known_hosts afresh (a redial sees keys added since); a
// missing file knows no host.
func (k *hostKeys) database() (xssh.HostKeyCallback, error) {
	if _, err := os.Stat(k.file); errors.Is(err, fs.ErrNotExist) {
		return func(string, net.Addr, xssh.PublicKey) error { return &knownhosts.KeyError{} }, nil
	}
	cb, err := knownhosts.New(k.file)
	if err != nil {
		return nil, fmt.Errorf("reading known_hosts: %w", err)
	}
	return cb, nil
}

// algorithms puts first the key types known for the address, so that the
// server shows the key we can check rather than another of its keys,
// which would look like a changed key.
func (k *hostKeys) algorithms() []string {
	var known []xssh.PublicKey
	if k.pin != nil {
		known = append(known, k.pin)
	} else {
		// Asking the database about a key no host has answers with every
		// key it knows for the address.
		_, probe, _ := ed25519.GenerateKey(rand.Reader)
		signer, _ := xssh.NewSignerFromKey(probe)
		if db, err := k.database(); err == nil {
			var ke *knownhosts.KeyError
			if errors.As(db(k.addr, probeAddr, signer.PublicKey()), &ke) {
				for _, w := range ke.Want {
					known = append(known, w.Key)
				}
			}
		}
	}
	var algos []string
	for _, key := range known {
		switch t := key.Type(); t {
		case xssh.KeyAlgoRSA:
			algos = append(algos, xssh.KeyAlgoRSASHA512, xssh.KeyAlgoRSASHA256, xssh.KeyAlgoRSA)
		default:
			algos = append(algos, t)
		}
	}
	for _, a := range xssh.SupportedAlgorithms().HostKeys {
		if !slices.Contains(algos, a) {
			algos = append(algos, a)
		}
	}
	return algos
}

// probeAddr stands for the remote address when asking the database: it
// checks the host name given, not this.
var probeAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}

func (k *hostKeys) check(hostname string, remote net.Addr, key xssh.PublicKey) error {
	fp := xssh.FingerprintSHA256(key)
	switch {
	case k.pin != nil:
		if bytes.Equal(k.pin.Marshal(), key.Marshal()) {
			return nil
		}
		return &ChangedHostKeyError{Address: hostname, KeyType: key.Type(), Fingerprint: fp,
			Known: []string{"host_key pins " + k.pin.Type() + " " + xssh.FingerprintSHA256(k.pin)}}
	}
	db, err := k.database()
	if err != nil {
		return err
	}
	err = db(hostname, remote, key)
	var revoked *knownhosts.RevokedError
	var keyErr *knownhosts.KeyError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &revoked):
		return &RevokedHostKeyError{Address: hostname, Fingerprint: fp, Entry: revoked.Revoked.String()}
	case errors.As(err, &keyErr) && len(keyErr.Want) > 0:
		changed := &ChangedHostKeyError{Address: hostname, KeyType: key.Type(), Fingerprint: fp}
		for _, w := range keyErr.Want {
			changed.Known = append(changed.Known, fmt.Sprintf("%s %s (%s:%d)", w.Key.Type(), xssh.FingerprintSHA256(w.Key), w.Filename, w.Line))
		}
		return changed
	case errors.As(err, &keyErr):
		line := knownhosts.Line([]string{hostname}, key)
		if !k.trust {
			return &UnknownHostKeyError{Address: hostname, KeyType: key.Type(), Fingerprint: fp, Line: line, KnownHosts: k.file}
		}
		return k.record(RecordedHostKey{Address: hostname, Fingerprint: fp, KnownHosts: k.file, Line: line})
	default:
		return err
	}
}

// appendMu serialises appends to known_hosts files within this process.
var appendMu sync.Mutex

// record appends r.Line to known_hosts, replacing the file atomically so
// that a crash leaves it whole.
func (k *hostKeys) record(r RecordedHostKey) error {
	appendMu.Lock()
	defer appendMu.Unlock()
	old, err := os.ReadFile(k.file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("recording the new host key of %s: %w", r.Address, err)
	}
	mode := fs.FileMode(0o600)
	if fi, err := os.Stat(k.file); err == nil {
		mode = fi.Mode().Perm()
	}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		old = append(old, '\n')
	}
	// OpenSSH refuses a ~/.ssh others may enter; make it as ssh would.
	if err := os.MkdirAll(filepath.Dir(k.file), 0o700); err != nil {
		return fmt.Errorf("recording the new host key of %s: %w", r.Address, err)
	}
	content := append(old, r.Line+"\n"...)
	if err := host.NewLocal("known_hosts", "").WriteFile(context.Background(), k.file, bytes.NewReader(content), mode); err != nil {
		return fmt.Errorf("recording the new host key of %s: %w", r.Address, err)
	}
	k.mu.Lock()
	k.recorded = append(k.recorded, r)
	if k.told != nil {
		k.told(r)
	}
	k.mu.Unlock()
	return nil
}

func (k *hostKeys) recordedKeys() []RecordedHostKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.recorded)
}
