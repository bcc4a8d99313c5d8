package discovery

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func install(t *testing.T, dir, source, ver, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, source, ver, "drover-provider-"+name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFind(t *testing.T) {
	project, user := t.TempDir(), t.TempDir()
	install(t, project, "example.com/acme/hello", "1.0.0", "hello", "a")
	install(t, user, "example.com/acme/hello", "1.2.0", "hello", "b")
	install(t, user, "example.com/acme/hello", "2.0.0", "hello", "c")
	dirs := []string{project, user}
	tests := []struct {
		constraint string
		want       string
		wantErr    string
	}{
		{constraint: "", want: "2.0.0"},
		{constraint: "< 2.0", want: "1.2.0"},
		{constraint: "~> 1.0.0", want: "1.0.0"},
		{constraint: ">= 3", wantErr: "no installed version matches"},
		{constraint: "bogus", wantErr: "not a valid constraint"},
	}
	for _, tt := range tests {
		t.Run(tt.constraint, func(t *testing.T) {
			f, err := Find(dirs, Requirement{Name: "hello", Source: "example.com/acme/hello", Version: tt.constraint})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Version != tt.want {
				t.Fatalf("version %s, want %s", f.Version, tt.want)
			}
		})
	}
	if _, err := Find(dirs, Requirement{Name: "nope", Source: "example.com/acme/nope"}); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Fatalf("missing provider: %v", err)
	}
}

func TestLockAndVerify(t *testing.T) {
	dir := t.TempDir()
	bin := install(t, dir, "example.com/acme/hello", "1.0.0", "hello", "original")
	f, err := Find([]string{dir}, Requirement{Name: "hello", Source: "example.com/acme/hello"})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteLock(dir, &Lock{FormatVersion: 1, Providers: map[string]Found{"hello": f}}); err != nil {
		t.Fatal(err)
	}
	l, err := ReadLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify("hello", l.Providers["hello"]); err != nil {
		t.Fatalf("unchanged binary refused: %v", err)
	}
	if err := os.WriteFile(bin, []byte("tampered"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Verify("hello", l.Providers["hello"]); err == nil || !strings.Contains(err.Error(), "has changed") {
		t.Fatalf("changed binary: %v", err)
	}
}

// TestVerifyNotAFile: a lock file naming a device or a folder is refused
// at once (hashing /dev/zero never ended), naming what it is in words.
func TestVerifyNotAFile(t *testing.T) {
	for path, kind := range map[string]string{"/dev/zero": "a character device", t.TempDir(): "a folder"} {
		t.Run(path, func(t *testing.T) {
			err := Verify("hello", Found{Path: path, SHA256: "00"})
			if err == nil || !strings.Contains(err.Error(), "is "+kind+", not a regular file") {
				t.Fatalf("Verify of %s: %v, want it named %s", path, err, kind)
			}
		})
	}
}
