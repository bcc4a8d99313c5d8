package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/drover-dr/drover/providers"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progressBars draws one bar per piece of long work on a terminal. The
// bars redraw their lines in place, so every other line printed while any
// is drawn must go through them (printf) to appear above them instead of
// being drawn over: status lines, and the interrupt messages (which v's
// interrupts send here meanwhile).
//
// A container of bars (mpb.Progress) lives from the first bar to the end
// of the last: mpb flushes the lines it was given only when it redraws,
// so a line is given before its bar ends, and the container is waited for
// as the last bar ends, never left to drop what it holds.
type progressBars struct {
	v *view

	mu      sync.Mutex
	prog    *mpb.Progress // nil while no bar is drawn
	bars    map[string]*mpb.Bar
	restore func() // gives the interrupt messages back to stderr
}

func newProgressBars(v *view) *progressBars {
	return &progressBars{v: v, bars: map[string]*mpb.Bar{}}
}

// printf prints a line to w, or above the bars while any is drawn.
func (b *progressBars) printf(w io.Writer, format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.prog != nil {
		w = b.prog
	}
	fmt.Fprintf(w, format, args...)
}

// stderr writes to stderr, or above the bars while any is drawn.
type stderrAbove struct{ b *progressBars }

func (s stderrAbove) Write(p []byte) (int, error) {
	s.b.printf(s.b.v.err, "%s", p)
	return len(p), nil
}

// update moves the bar called name, adding it on first use.
func (b *progressBars) update(name string, p providers.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bar, ok := b.bars[name]
	if !ok {
		if b.prog == nil {
			b.prog = mpb.New(mpb.WithOutput(b.v.out), mpb.WithWidth(40))
			b.restore = b.v.interrupts.printTo(stderrAbove{b})
		}
		// Added without a total, a bar ends only by finish: mpb would
		// end it at 100 %, before the line that says the work is done.
		bar = b.prog.AddBar(0,
			mpb.PrependDecorators(decor.Name(name+" ", decor.WC{W: len(name) + 1, C: decor.DindentRight})),
			mpb.AppendDecorators(progressStatus(p.Unit)))
		b.bars[name] = bar
	}
	if p.Total > 0 {
		bar.SetTotal(p.Total, false)
	}
	bar.SetCurrent(p.Done)
}

// progressStatus shows how far a bar is: the percentage and the time left
// when the total is known, else what is done so far. The time left is
// estimated from the average speed, and shown only once there is one.
func progressStatus(unit string) decor.Decorator {
	start := time.Now()
	return decor.Any(func(s decor.Statistics) string {
		switch {
		case s.Total <= 0 || (s.Completed && s.Total == s.Current && s.Current == 0):
			return fmt.Sprintf("%d %s", s.Current, unit)
		case s.Completed || s.Current <= 0 || s.Current >= s.Total:
			return fmt.Sprintf("%3d %%", 100*min(s.Current, s.Total)/s.Total)
		}
		elapsed := time.Since(start)
		left := time.Duration(float64(elapsed) * float64(s.Total-s.Current) / float64(s.Current))
		return fmt.Sprintf("%3d %% %s left", 100*s.Current/s.Total, left.Round(time.Second))
	}, decor.WC{W: 5})
}

// finish completes the bar called name, or drops it when failed. The last
// one ends the container, after its final drawing.
func (b *progressBars) finish(name string, failed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bar, ok := b.bars[name]
	if !ok {
		return
	}
	if failed {
		bar.Abort(false)
	} else {
		bar.SetTotal(-1, true)
	}
	delete(b.bars, name)
	if len(b.bars) == 0 {
		b.end()
	}
}

// wait ends what is still drawn: bars of work that never finished are
// dropped.
func (b *progressBars) wait() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, bar := range b.bars {
		bar.Abort(false)
		delete(b.bars, name)
	}
	b.end()
}

// end waits for the container's final drawing; b.mu is held.
func (b *progressBars) end() {
	if b.prog == nil {
		return
	}
	b.prog.Wait()
	b.prog = nil
	b.restore()
}
