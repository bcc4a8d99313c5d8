package blocks

import (
	"strings"
	"testing"
)

// A target read through a transport that tells less (SFTP: no inode,
// whole seconds) is the same target as when read with everything known;
// what both know still tells a replaced or rewritten file.
func TestIdentityMismatch(t *testing.T) {
	const ns = int64(1_700_000_000_123_456_789)
	full := Identity{Size: 100, Dev: 1, Inode: 42, ModTime: ns}
	for _, tc := range []struct {
		name string
		got  Identity
		want string
	}{
		{"same", full, ""},
		{"through SFTP", Identity{Size: 100, ModTime: ns / 1e9 * 1e9}, ""},
		{"through SFTP, written a second later", Identity{Size: 100, ModTime: (ns/1e9 + 1) * 1e9}, "modified since the last copy"},
		{"written in the same second", Identity{Size: 100, Dev: 1, Inode: 42, ModTime: ns + 1}, "modified since the last copy"},
		{"replaced", Identity{Size: 100, Dev: 1, Inode: 43, ModTime: ns}, "another file"},
		{"grown", Identity{Size: 200, Dev: 1, Inode: 42, ModTime: ns}, "size changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := full.mismatch(tc.got, true)
			if (tc.want == "") != (got == "") || (tc.want != "" && !strings.Contains(got, tc.want)) {
				t.Errorf("mismatch = %q, want %q", got, tc.want)
			}
		})
	}
}
