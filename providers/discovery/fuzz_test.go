package discovery

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzReadLock reads arbitrary bytes as drover.lock.json, which is
// committed with a configuration and so comes from anyone: a lock it
// accepts writes out and reads back the same.
func FuzzReadLock(f *testing.F) {
	f.Add([]byte(`{
  "format_version": 1,
  "providers": {
    "hello": {
      "source": "example.com/acme/hello",
      "version": "1.0.0",
      "path": ".drover/plugins/example.com/acme/hello/1.0.0/drover-provider-hello",
      "sha256": "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
    }
  }
}
`))
	f.Add([]byte(`{"format_version":1,"providers":{"a":{"path":"/dev/zero"},"b":{}}}`))
	f.Add([]byte(`{"format_version":2}`))
	dir := f.TempDir()
	out := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, LockFileName), b, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := ReadLock(dir)
		if err != nil {
			return
		}
		if err := WriteLock(out, l); err != nil {
			t.Fatalf("a lock it read does not write: %v", err)
		}
		back, err := ReadLock(out)
		if err != nil {
			t.Fatalf("a lock it wrote does not read: %v", err)
		}
		if diff := cmp.Diff(l, back); diff != "" {
			t.Fatalf("the lock changed once written out:\n%s", diff)
		}
	})
}
