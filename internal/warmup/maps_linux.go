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
			if m, ok := parseMapping(line); ok && !yield(m) {
				return
			}
		}
	}
}

// parseMapping reads a line of /proc/self/maps, or the header of a
// mapping in /proc/self/smaps; other lines are not one.
func parseMapping(line []byte) (mapping, bool) {
	f := bytes.Fields(line)
	if len(f) < 2 {
		return mapping{}, false
	}
	lo, hi, ok := bytes.Cut(f[0], []byte("-"))
	if !ok {
		return mapping{}, false
	}
	start, err1 := strconv.ParseUint(string(lo), 16, 64)
	end, err2 := strconv.ParseUint(string(hi), 16, 64)
	if err1 != nil || err2 != nil {
		return mapping{}, false
	}
	m := mapping{start: start, end: end, perms: string(f[1])}
	if len(f) >= 6 {
		m.path = string(f[5])
	}
	return m, true
}
