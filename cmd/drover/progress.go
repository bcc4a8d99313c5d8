package main

import (
	"sync"

	"github.com/drover-dr/drover/providers"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progressBars draws one bar per piece of long work on a terminal; status
// lines printed through it appear above the bars.
type progressBars struct {
	prog *mpb.Progress

	mu   sync.Mutex
	bars map[string]*mpb.Bar
}

func newProgressBars(v *view) *progressBars {
	return &progressBars{prog: mpb.New(mpb.WithOutput(v.out), mpb.WithWidth(40)), bars: map[string]*mpb.Bar{}}
}

// update moves the bar called name, adding it on first use.
func (b *progressBars) update(name string, p providers.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bar, ok := b.bars[name]
	if !ok {
		bar = b.prog.AddBar(p.Total,
			mpb.PrependDecorators(decor.Name(name+" ", decor.WC{W: len(name) + 1, C: decor.DindentRight})),
			mpb.AppendDecorators(decor.Percentage(decor.WC{W: 5}), decor.Name(" "), decor.AverageETA(decor.ET_STYLE_GO)))
		b.bars[name] = bar
	}
	if p.Total > 0 {
		bar.SetTotal(p.Total, false)
	}
	bar.SetCurrent(p.Done)
}

// finish completes the bar called name, or drops it when failed.
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
}

// wait lets the bars finish drawing.
func (b *progressBars) wait() { b.prog.Wait() }
