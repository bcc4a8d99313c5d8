package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSumOf reads a file only when its record has no sum for the file as
// it is: a recorded sum is taken as it stands (a made-up one shows the
// file was not read), and a write in place, of the same size, is noticed.
func TestSumOf(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "drover")
	content := []byte(strings.Repeat("this build\n", 1000))
	if err := os.WriteFile(exe, content, 0o700); err != nil {
		t.Fatal(err)
	}
	real := sha256.Sum256(content)
	want := hex.EncodeToString(real[:])
	record := filepath.Join(dir, "cache", "drover", "executables")
	made := strings.Repeat("ab", 32)
	madeUp := func(t *testing.T) {
		t.Helper()
		b, err := os.ReadFile(record)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(record, []byte(strings.ReplaceAll(string(b), want, made)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sumIs := func(t *testing.T, want string) {
		t.Helper()
		got, err := sumOf(exe, record, controllerKeep)
		if err != nil || got != want {
			t.Errorf("sumOf = %s, %v; want %s", got, err, want)
		}
	}

	t.Run("first read", func(t *testing.T) {
		sumIs(t, want)
		fi, err := os.Stat(record)
		if err != nil {
			t.Fatalf("no record written: %v", err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("the record has mode %v, want 0600", fi.Mode().Perm())
		}
		if dfi, _ := os.Stat(filepath.Dir(record)); dfi.Mode().Perm() != 0o700 {
			t.Errorf("the record's folder has mode %v, want 0700", dfi.Mode().Perm())
		}
	})
	t.Run("recorded", func(t *testing.T) {
		madeUp(t)
		sumIs(t, made)
	})
	t.Run("written in place", func(t *testing.T) {
		madeUp(t)
		f, err := os.OpenFile(exe, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(content[:10]); err != nil {
			t.Fatal(err)
		}
		f.Close()
		sumIs(t, want)
		madeUp(t)
		sumIs(t, made)
	})
	t.Run("changed mode", func(t *testing.T) {
		madeUp(t)
		if err := os.Chmod(exe, 0o755); err != nil {
			t.Fatal(err)
		}
		sumIs(t, want)
	})
	for _, bad := range []string{"", "not a record\n", sumsHeader + "\n1 2 3\n", sumsHeader + "\n1 2 3 4 5 " + strings.Repeat("AB", 32) + "\n"} {
		t.Run("unreadable "+strings.ReplaceAll(bad, "\n", " "), func(t *testing.T) {
			if err := os.WriteFile(record, []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			sumIs(t, want)
			madeUp(t)
			sumIs(t, made)
		})
	}
	t.Run("no record", func(t *testing.T) {
		madeUp(t)
		got, err := sumOf(exe, "", controllerKeep)
		if err != nil || got != want {
			t.Errorf("sumOf without a record = %s, %v; want %s", got, err, want)
		}
	})
}

// TestSumsKept keeps the sums of the last few executables, so that builds
// used in turns each keep theirs.
func TestSumsKept(t *testing.T) {
	dir := t.TempDir()
	record := filepath.Join(dir, "executables")
	var exes []string
	for i := range controllerKeep + 2 {
		exe := filepath.Join(dir, "drover"+strings.Repeat("x", i))
		if err := os.WriteFile(exe, []byte(exe), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := sumOf(exe, record, controllerKeep); err != nil {
			t.Fatal(err)
		}
		exes = append(exes, exe)
	}
	if n := len(readSums(record)); n != controllerKeep {
		t.Fatalf("the record holds %d sums, want %d", n, controllerKeep)
	}
	// Each of the last ones is known: the record is not written again
	// (a write replaces its file).
	for _, exe := range exes[len(exes)-controllerKeep:] {
		before, err := os.Stat(record)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sumOf(exe, record, controllerKeep); err != nil {
			t.Fatal(err)
		}
		if after, err := os.Stat(record); err != nil || !os.SameFile(before, after) {
			t.Errorf("%s was read again: the record was written (%v)", exe, err)
		}
	}
}

// TestSettled records the sum of a file whose times are whole seconds (a
// file system that keeps no fractions) only once the second of its last
// change has passed: a write within it would not change the file's times.
func TestSettled(t *testing.T) {
	second := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		ctime time.Time
		read  time.Time
		want  bool
	}{
		{"nanoseconds", second.Add(1), second.Add(2), true},
		{"whole seconds, in the same second", second, second.Add(999 * time.Millisecond), false},
		{"whole seconds, the second after", second, second.Add(time.Second), true},
		{"whole seconds, read before the change (clocks apart)", second, second.Add(-time.Minute), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := identity{CTime: tc.ctime.UnixNano(), MTime: tc.ctime.UnixNano()}
			if got := settled(id, tc.read); got != tc.want {
				t.Errorf("settled(change %v, read %v) = %v, want %v", tc.ctime, tc.read, got, tc.want)
			}
		})
	}
}
