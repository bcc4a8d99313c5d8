package warmup

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// smapsField is the value of key (e.g. "Rss:") in /proc/self/smaps for
// the mapping that holds the address at.
func smapsField(t *testing.T, at uint64, key string) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m, ok := parseMapping([]byte(line)); ok {
			in = m.start <= at && at < m.end
			continue
		}
		if value, ok := strings.CutPrefix(line, key); in && ok {
			return value
		}
	}
	t.Fatalf("no mapping holds %#x", at)
	return ""
}
