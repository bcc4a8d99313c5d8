package disk

import (
	"testing"
	"time"
)

func TestUnits(t *testing.T) {
	for in, want := range map[string]int64{"4GiB": 4 << 30, "512MiB": 512 << 20, "1048576": 1 << 20, "1.5 KiB": 1536, "2GB": 2e9} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1MiB", "many", "0", "4XB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) succeeded", bad)
		}
	}
	if got := formatBytes(213 << 20); got != "213 MiB" {
		t.Errorf("formatBytes = %q", got)
	}
	if got := formatCount(3412); got != "3,412" {
		t.Errorf("formatCount = %q", got)
	}
	if got := formatAge(2*time.Hour + 13*time.Minute + 5*time.Second); got != "2h13m" {
		t.Errorf("formatAge = %q", got)
	}
}

func FuzzParseSize(f *testing.F) {
	f.Add("4GiB")
	f.Add("1e300TiB")
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := parseSize(s); err == nil && n <= 0 {
			t.Fatalf("parseSize(%q) = %d", s, n)
		}
	})
}
