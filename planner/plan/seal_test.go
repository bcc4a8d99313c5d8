package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/addrs"
	"github.com/zclconf/go-cty/cty"
)

func sealedFixture(t *testing.T, key []byte) []byte {
	t.Helper()
	file := addrs.Resource{Mode: addrs.Managed, Type: "file", Name: "motd"}
	ty := cty.Object(map[string]cty.Type{"content": cty.String, "mode": cty.String, "sha256": cty.String, "size": cty.Number})
	p := &Plan{Mode: Normal, Lineage: "l", Serial: 2, ConfigHash: "h",
		Variables: map[string]cty.Value{"peer": cty.StringVal("fs2 <&> ünï")},
		Changes: []*Change{{Addr: file.Instance(addrs.IntK(3)), Provider: "core", Action: Create,
			Before: cty.NullVal(ty),
			After: cty.ObjectVal(map[string]cty.Value{"content": cty.StringVal("hello\n"), "mode": cty.StringVal("0644"),
				"sha256": cty.StringVal("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"), "size": cty.UnknownVal(cty.Number)})}}}
	b, err := Seal(p, key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	sealed := sealedFixture(t, key)
	reindent := func(b []byte) []byte {
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "\t"); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	compact := func(b []byte) []byte {
		var out bytes.Buffer
		if err := json.Compact(&out, b); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	edit := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte {
			if !bytes.Contains(b, []byte(old)) {
				t.Fatalf("the sealed plan holds no %s", old)
			}
			return bytes.Replace(b, []byte(old), []byte(new), 1)
		}
	}
	tests := []struct {
		name     string
		change   func([]byte) []byte
		key      []byte
		tampered bool
	}{
		{name: "untouched", change: func(b []byte) []byte { return b }},
		{name: "whitespace only", change: reindent},
		{name: "compacted", change: compact},
		{name: "content", change: edit(`"hello\n"`, `"pwned\n"`), tampered: true},
		{name: "mode", change: edit(`"0644"`, `"4777"`), tampered: true},
		{name: "sha256", change: edit(`"5891b5b5`, `"0000b5b5`), tampered: true},
		{name: "serial", change: edit(`"serial": 2`, `"serial": 3`), tampered: true},
		{name: "index", change: edit(`"index": 3`, `"index": 4`), tampered: true},
		{name: "unknown made known", change: edit(`"unknown_paths"`, `"unknown_pathz"`), tampered: true},
		{name: "duplicate key", change: edit(`"mode": "normal",`, `"mode": "normal", "mode": "destroy",`), tampered: true},
		{name: "mac removed", change: func(b []byte) []byte {
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			delete(doc, "mac")
			out, _ := json.Marshal(doc)
			return out
		}, tampered: true},
		{name: "other workspace", change: func(b []byte) []byte { return b }, key: bytes.Repeat([]byte{8}, KeySize), tampered: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := key
			if tt.key != nil {
				k = tt.key
			}
			p, err := Open(tt.change(bytes.Clone(sealed)), k)
			if tt.tampered {
				if !errors.Is(err, ErrTampered) {
					t.Fatalf("Open = %v, want ErrTampered", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Changes[0].After.GetAttr("content"); !got.RawEquals(cty.StringVal("hello\n")) {
				t.Fatalf("content = %#v", got)
			}
		})
	}
}

// TestSealedPlanDecodes: a sealed plan is a plain plan document that
// anyone can read without the key (show, graph).
func TestSealedPlanDecodes(t *testing.T) {
	p, err := Decode(sealedFixture(t, bytes.Repeat([]byte{7}, KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 {
		t.Fatalf("changes %v", p.Changes)
	}
}

func TestEnsureKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drover.state.json.plan-key")
	if _, err := ReadKey(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadKey of no key = %v", err)
	}
	key, err := EnsureKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %04o, want 0600", fi.Mode().Perm())
	}
	again, err := EnsureKey(path)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("EnsureKey made a new key over an existing one (%v)", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a key others may read was accepted: %v", err)
	}
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o600)
	if _, err := ReadKey(path); err == nil {
		t.Fatal("a malformed key was accepted")
	}
}
