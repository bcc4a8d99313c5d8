package plan

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A saved plan is sealed with a keyed MAC (HMAC-SHA256) whose key is a
// secret of the workspace, kept in a file readable only by its owner. A
// hash stored in the plan would only catch accidents: whoever can edit the
// file can recompute it. The MAC needs the key, so a plan edited by anyone
// who cannot read the key is refused, while the document itself stays
// plain JSON that anyone may read and show.
//
// The MAC covers the document as parsed, re-marshalled compactly without
// its mac field: what is checked is exactly what Open goes on to decode,
// whatever the file's whitespace, key order or duplicate keys.

const macScheme = "hmac-sha256:"

// ErrTampered is wrapped by Open's errors for a plan whose MAC is missing
// or does not match: the document was edited, or sealed in another
// workspace.
var ErrTampered = errors.New("the saved plan does not match its seal")

// KeySize is the length of a workspace's plan key in bytes.
const KeySize = 32

// Seal encodes p as Encode does and adds the MAC made with key.
func Seal(p *Plan, key []byte) ([]byte, error) {
	doc, err := encodeDocument(p)
	if err != nil {
		return nil, err
	}
	if doc.MAC, err = mac(doc, key); err != nil {
		return nil, err
	}
	return json.MarshalIndent(doc, "", "  ")
}

// Open decodes a document written by Seal after checking its MAC with key.
func Open(b, key []byte) (*Plan, error) {
	doc, err := parseDocument(b)
	if err != nil {
		return nil, err
	}
	if doc.MAC == "" {
		return nil, fmt.Errorf("%w: it has no mac field (it was not saved by `drover plan --out`, or the field was removed)", ErrTampered)
	}
	want, err := mac(doc, key)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal([]byte(doc.MAC), []byte(want)) {
		return nil, fmt.Errorf("%w: its content was changed after it was saved, or it was saved in another workspace", ErrTampered)
	}
	return decodeDocument(doc)
}

func mac(doc *document, key []byte) (string, error) {
	if len(key) < KeySize {
		return "", fmt.Errorf("plan key of %d bytes is too short (want %d)", len(key), KeySize)
	}
	d := *doc
	d.MAC = ""
	b, err := json.Marshal(&d)
	if err != nil {
		return "", err
	}
	h := hmac.New(sha256.New, key)
	h.Write([]byte("drover plan document\n"))
	h.Write(b)
	return macScheme + hex.EncodeToString(h.Sum(nil)), nil
}

// ReadKey reads the workspace's plan key at path. A key that others may
// read is refused: it would no longer tell who sealed a plan.
func ReadKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the plan key %s is readable or writable by others (mode %04o): anyone who reads it can forge saved plans; run `chmod 600 %s` if no one else has read it, or delete it and plan again", path, fi.Mode().Perm(), path)
	}
	// The key is hex with a newline; one byte more tells a longer file.
	b := make([]byte, 2*KeySize+2)
	n, _ := io.ReadFull(f, b)
	key, err := hex.DecodeString(strings.TrimSpace(string(b[:n])))
	if n > 2*KeySize+1 || err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("the plan key %s is not %d hex-encoded bytes: delete it and plan again", path, KeySize)
	}
	return key, nil
}

// EnsureKey reads the plan key at path, first creating it (mode 0600) when
// there is none. Creation is atomic and never replaces a key another
// process created meanwhile: plans sealed with that one stay valid.
func EnsureKey(path string) ([]byte, error) {
	key, err := ReadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("creating the plan key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("creating the plan key: %w", err)
	}
	// Link fails if path exists: the first key made wins.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("creating the plan key: %w", err)
	}
	return ReadKey(path)
}
