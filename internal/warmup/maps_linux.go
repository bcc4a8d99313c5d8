package warmup

import (
	"bytes"
	"iter"
	"os"
	"strconv"
)

// mapping is one line of /proc/self/maps.
type mapping struct {
	start, end uint64
	perms      string
	path       string
}

// mappings lists the process's memory mappings; none when they cannot be
// read.
func mappings() iter.Seq[mapping] {
	maps, err := os.ReadFile("/proc/self/maps")
	return func(yield func(mapping) bool) {
		if err != nil {
			return
		}
		for line := range bytes.Lines(maps) {
			f := bytes.Fields(line)
			if len(f) < 2 {
				continue
			}
			lo, hi, ok := bytes.Cut(f[0], []byte("-"))
			if !ok {
				continue
			}
			start, err1 := strconv.ParseUint(string(lo), 16, 64)
			end, err2 := strconv.ParseUint(string(hi), 16, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			m := mapping{start: start, end: end, perms: string(f[1])}
			if len(f) >= 6 {
				m.path = string(f[5])
			}
			if !yield(m) {
				return
			}
		}
	}
}
