package report

import (
	"fmt"
	"strconv"
	"time"

	"github.com/drover-dr/drover/record"
)

// timeline is the chart of a run's steps, laid out here so that the page
// needs no script: one row per step, grouped in bands by wave, a bar from
// the step's start to its end on a time axis that starts with the run,
// the measured RTO and the RTO budget as vertical lines.
type timeline struct {
	Width, Height px
	Left, Right   px // the time axis's ends
	Top, Bottom   px // the rows' ends
	BarHeight     px
	// Dense is a chart of many steps, drawn with rows half as high so
	// that a runbook of hundreds of steps stays a chart, not a scroll.
	Dense       bool
	Bands       []band
	Rows        []row
	Ticks       []tick
	RTO, Budget *marker
}

type band struct {
	Y, H  px
	Label string
	Shade bool
}

type row struct {
	BarY, TextY px
	Name        string
	Class       string // the step's status
	// Bar is set for a step that ran; Note says why another did not.
	Bar   *bar
	Note  string
	Title string
}

type bar struct{ X, W px }

// px is a length in the chart, written with one decimal: it formats
// itself, so that the page's thousands of coordinates cost the template
// no function call each.
type px float64

func (p px) String() string { return strconv.FormatFloat(float64(p), 'f', 1, 64) }

type tick struct {
	X     px
	Label string
}

type marker struct {
	X, LabelY px
	Label     string
	Over      bool
}

const (
	chartWidth  = 1000.0
	labelWidth  = 210.0
	rowHeight   = 24.0
	barHeight   = 14.0
	denseAbove  = 40 // steps
	denseRow    = 12.0
	denseBar    = 8.0
	markerSpace = 36.0 // above the rows, for the markers' labels, one line each
	axisSpace   = 26.0 // below the rows, for the tick labels
	minBar      = 2.0  // so that a step of a millisecond still shows
)

// tickSteps are the spacings the axis may use; it takes the first that
// gives at most eight ticks.
var tickSteps = []time.Duration{
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

func newTimeline(r *record.Record) timeline {
	ws := waves(r)
	n := 0
	span := max(time.Duration(r.RTO), time.Duration(r.Budget.RTO))
	for _, wv := range ws {
		for _, s := range wv.Steps {
			n++
			if d, ok := duration(r, s); ok {
				span = max(span, s.StartedAt.Sub(r.StartedAt)+d)
			}
		}
	}
	if span <= 0 {
		span = time.Second
	}
	var rowH, barH px = rowHeight, barHeight
	if n > denseAbove {
		rowH, barH = denseRow, denseBar
	}
	t := timeline{
		Width: chartWidth, Left: labelWidth, Right: chartWidth - 60,
		Top: markerSpace, Bottom: markerSpace + px(n)*rowH, BarHeight: barH, Dense: n > denseAbove,
	}
	t.Height = t.Bottom + axisSpace
	x := func(d time.Duration) px {
		return t.Left + (t.Right-t.Left)*px(d)/px(span)
	}
	y := t.Top
	for i, wv := range ws {
		t.Bands = append(t.Bands, band{Y: y, H: px(len(wv.Steps)) * rowH, Label: fmt.Sprintf("wave %d", wv.Number), Shade: i%2 == 0})
		for _, s := range wv.Steps {
			rw := row{BarY: y + (rowH-barH)/2, TextY: y + rowH/2 + rowH/6, Name: s.Name, Class: string(s.Status), Title: s.Name + ": " + string(s.Status)}
			if d, ok := duration(r, s); ok {
				// A step's clock may disagree with the run's by a little;
				// no bar starts before the axis.
				offset := max(0, s.StartedAt.Sub(r.StartedAt))
				start := x(offset)
				rw.Bar = &bar{X: start, W: max(minBar, x(offset+d)-start)}
				rw.Title += " in " + formatDuration(d) + ", from " + formatClock(s.StartedAt)
			} else {
				rw.Note = string(s.Status)
				if s.SkipReason != "" {
					rw.Note += ": " + printable(s.SkipReason)
				}
			}
			t.Rows = append(t.Rows, rw)
			y += rowH
		}
	}
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= 8 {
			step = s
			break
		}
	}
	for d := time.Duration(0); d <= span; d += step {
		label := formatDuration(d)
		if d == 0 {
			label = "0"
		}
		t.Ticks = append(t.Ticks, tick{X: x(d), Label: label})
	}
	if r.RTO > 0 {
		t.RTO = &marker{X: x(time.Duration(r.RTO)), LabelY: 30, Label: "RTO " + formatDuration(time.Duration(r.RTO)), Over: rtoOver(r)}
	}
	if r.Budget.RTO > 0 {
		t.Budget = &marker{X: x(time.Duration(r.Budget.RTO)), LabelY: 13, Label: "RTO budget " + formatDuration(time.Duration(r.Budget.RTO))}
	}
	return t
}
