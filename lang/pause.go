package lang

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// pauseBudget is how much memory the process may grow by while the
// collector is paused for parsing; past it, the collector runs as usual.
// Parsing 1 MB of configuration allocates about 260 MB.
const pauseBudget = 1 << 30

// pause holds the collector's settings from before the first of the
// parses under way, restored when the last ends.
var pause struct {
	sync.Mutex
	parses  int
	percent int
	limit   int64
}

// pauseCollection stops the garbage collector while configuration files
// are parsed, and returns what restarts it. Parsing is one burst of
// allocation whose result either lives on (the syntax trees) or dies all
// at once at its end (the lexer's token lists, grown by appending, five
// times their final size allocated): a collection in the burst marks the
// growing trees again and finds little to free. Measured on a 1.1 MB
// file, the pause saves 30% of the parse's CPU.
func pauseCollection() func() {
	pause.Lock()
	defer pause.Unlock()
	if pause.parses == 0 {
		s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
		metrics.Read(s)
		total := int64(math.MaxInt64 - pauseBudget)
		if s[0].Value.Kind() == metrics.KindUint64 {
			total = int64(s[0].Value.Uint64())
		}
		pause.limit = debug.SetMemoryLimit(-1)
		debug.SetMemoryLimit(min(pause.limit, total+pauseBudget))
		pause.percent = debug.SetGCPercent(-1)
	}
	pause.parses++
	return func() {
		pause.Lock()
		defer pause.Unlock()
		if pause.parses--; pause.parses == 0 {
			debug.SetGCPercent(pause.percent)
			debug.SetMemoryLimit(pause.limit)
		}
	}
}
