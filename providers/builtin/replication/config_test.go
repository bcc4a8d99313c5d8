package replication

import "testing"

func TestParseBandwidth(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"10MiB/s", 10 << 20}, {"512 KB/s", 512000}, {"100Mbit/s", 12500000}, {"1G", 1e9}, {"8b", 1},
		{"1.5 MiB", 1572864}, {"100Mbps", 12500000}, {"2048", 2048},
	} {
		if got, err := parseBandwidth(tt.in); err != nil || got != tt.want {
			t.Errorf("parseBandwidth(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "fast", "-1MB/s", "0", "10 parsecs", "1e400", "MiB/s", "1b"} {
		if got, err := parseBandwidth(in); err == nil {
			t.Errorf("parseBandwidth(%q) = %d, want an error", in, got)
		}
	}
}

func FuzzParseBandwidth(f *testing.F) {
	for _, s := range []string{"10MiB/s", "100Mbit/s", "1G", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := parseBandwidth(s); err == nil && n < 1 {
			t.Errorf("parseBandwidth(%q) = %d", s, n)
		}
	})
}
