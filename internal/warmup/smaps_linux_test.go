package warmup

import (
	"bufio"
	"os"
	"strconv"
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
		if fields := strings.Fields(line); len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			lo, hi, _ := strings.Cut(fields[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && start <= at && at < end
			continue
		}
		if value, ok := strings.CutPrefix(line, key); in && ok {
			return value
		}
	}
	t.Fatalf("no mapping holds %#x", at)
	return ""
}
