package ssh

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	xssh "golang.org/x/crypto/ssh"
)

// fuzzKey is the key the host shows in the fuzz targets; their seeds
// name it, and another key.
const fuzzKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFJ8HexBInba52ugeZSz4PxNaVYyyjVZ79V8ZFc7vmA8"

func parsedFuzzKey(t *testing.T) xssh.PublicKey {
	key, _, _, _, err := xssh.ParseAuthorizedKey([]byte(fuzzKey))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// FuzzKnownHosts checks a host key against a known_hosts file of any
// content (hashed entries, markers, ports, damaged lines): it answers,
// never panics, and accepts the key only when a line names it.
func FuzzKnownHosts(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		k, err := newHostKeys(Options{Name: "fs1", KnownHosts: file}, "fs1.example:22")
		if err != nil {
			t.Fatal(err)
		}
		k.algorithms()
		key := parsedFuzzKey(t)
		if err := k.check("fs1.example:22", probeAddr, key); err == nil && !containsKey(data, key) {
			t.Errorf("a known_hosts without the key accepted it:\n%q", data)
		}
	})
}

// containsKey says whether data holds key's base64 form.
func containsKey(data []byte, key xssh.PublicKey) bool {
	line := xssh.MarshalAuthorizedKey(key) // "TYPE BASE64\n"
	return bytes.Contains(data, line[len(key.Type())+1:len(line)-1])
}

// FuzzHostKeyPin reads a host_key pin of any content: refused with an
// error, or a key that accepts exactly itself.
func FuzzHostKeyPin(f *testing.F) {
	f.Fuzz(func(t *testing.T, pin string) {
		k, err := newHostKeys(Options{Name: "fs1", HostKey: pin, KnownHosts: filepath.Join(t.TempDir(), "none")}, "fs1.example:22")
		if err != nil {
			return
		}
		key := parsedFuzzKey(t)
		err = k.check("fs1.example:22", probeAddr, key)
		if k.pin != nil && (err == nil) != bytes.Equal(k.pin.Marshal(), key.Marshal()) {
			t.Errorf("pin %q: check of the fuzz key: %v", pin, err)
		}
	})
}
