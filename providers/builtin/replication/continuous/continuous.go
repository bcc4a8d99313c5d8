package continuous

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/replication/mirror"
)

// Options shapes a continuous mirror. Zero values take the defaults.
type Options struct {
	// Settle: changes are sent once the source has been quiet this long
	// (100ms)…
	Settle time.Duration
	// MaxDelay: …or once the oldest of them has waited this long (500ms),
	// so that a source that never rests is still followed.
	MaxDelay time.Duration
	// Rescan is how often both sides are compared whole (10m), for changes
	// no event reported.
	Rescan time.Duration
	// Report, when set, receives the status about every ReportEvery (1s)
	// and after every round.
	Report      func(Status)
	ReportEvery time.Duration
}

func (o *Options) defaults() {
	if o.Settle <= 0 {
		o.Settle = 100 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 500 * time.Millisecond
	}
	if o.Rescan <= 0 {
		o.Rescan = 10 * time.Minute
	}
	if o.ReportEvery <= 0 {
		o.ReportEvery = time.Second
	}
}

// Status is how a continuous mirror is doing.
type Status struct {
	// Lag is the age of the oldest change not yet on the target: the
	// set's data-loss window now. 0 when in sync.
	Lag time.Duration
	// Pending counts the paths waiting to be sent.
	Pending int
	Rounds  int
	// Rescans counts the rounds that compared everything after the first
	// (after an event overflow, or at the rescan interval).
	Rescans int
	// Entries and Bytes are what was sent so far.
	Entries int64
	Bytes   int64
	// Problems is the last round's list of entries it could not mirror
	// (retried by the next rescan); nil when it had none.
	Problems error
}

// Stats sums up a run.
type Stats struct {
	Rounds  int
	Rescans int
	Entries int64
	Bytes   int64
	// The lag of every change seen while running, from its event to the
	// end of the round that sent it.
	LagP50, LagP99, LagMax time.Duration
	Changes                int
}

// Run mirrors m once whole, then follows its sources until ctx ends: every
// change a source reports is sent within about MaxDelay, bursts coalesced;
// lost events (an overflow) and the periodic rescan compare everything.
// Run returns when ctx ends, after the round in flight stopped with nothing
// half-written, or when a source vanished (mirror.ErrSourceVanished) or a
// watch failed.
func Run(ctx context.Context, m *mirror.Mirror, o Options) (Stats, error) {
	o.defaults()
	r := &runner{m: m, o: o, pairs: m.Pairs(), dirty: make([]map[string]time.Time, len(m.Pairs()))}
	for i := range r.dirty {
		r.dirty[i] = map[string]time.Time{}
	}
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	events, err := r.watch(wctx)
	if err != nil {
		return Stats{}, err
	}
	if o.Report != nil {
		stop := r.reporter()
		defer stop()
	}
	r.mu.Lock()
	r.full, r.fullSince = true, time.Now()
	r.mu.Unlock()
	if err := r.round(ctx); err != nil {
		return r.stats(), done(ctx, err)
	}
	r.report()
	rescan := time.NewTicker(o.Rescan)
	defer rescan.Stop()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var first, last time.Time
	for {
		select {
		case <-ctx.Done():
			return r.stats(), nil
		case ev := <-events:
			if ev.err != nil {
				return r.stats(), ev.err
			}
			now := time.Now()
			r.mark(ev, now)
			if first.IsZero() {
				first = now
			}
			last = now
			due := last.Add(o.Settle)
			if cap := first.Add(o.MaxDelay); cap.Before(due) {
				due = cap
			}
			timer.Reset(due.Sub(now))
			continue
		case <-timer.C:
		case <-rescan.C:
			r.mu.Lock()
			r.full, r.fullSince = true, time.Now()
			r.mu.Unlock()
		}
		first, last = time.Time{}, time.Time{}
		if err := r.round(ctx); err != nil {
			return r.stats(), done(ctx, err)
		}
		r.report()
	}
}

func (r *runner) report() {
	if r.o.Report == nil {
		return
	}
	r.mu.Lock()
	s := r.current(time.Now())
	r.mu.Unlock()
	r.o.Report(s)
}

// done turns the error of a round cut short by the end of ctx into a
// clean stop.
func done(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

type event struct {
	pair     int
	rel      string
	overflow bool
	err      error
}

type runner struct {
	m     *mirror.Mirror
	o     Options
	pairs []mirror.Pair

	mu sync.Mutex
	// dirty holds, per pair, the paths reported changed and when first.
	dirty []map[string]time.Time
	// full asks the next round to compare everything; fullSince is when
	// that became needed.
	full      bool
	fullSince time.Time
	// inFlight is the oldest change of the round running.
	inFlight time.Time
	status   Status
	lags     []time.Duration
}

// watch merges the watches of every source into one channel.
func (r *runner) watch(ctx context.Context) (<-chan event, error) {
	out := make(chan event, 1024)
	for i, p := range r.pairs {
		ch, err := p.Source.Host.Watch(ctx, p.Source.Path)
		if err != nil {
			return nil, fmt.Errorf("watching source %s: %w", p.Source, err)
		}
		go func() {
			for ev := range ch {
				e := event{pair: i, overflow: ev.Overflow, err: ev.Err}
				if !ev.Overflow && ev.Err == nil {
					rel, ok := relPath(p.Source.Path, ev.Path)
					if !ok || host.IsTempName(path.Base(ev.Path)) {
						continue
					}
					e.rel = rel
				}
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	return out, nil
}

func relPath(root, p string) (string, bool) {
	if p == root {
		return "", true
	}
	prefix := strings.TrimSuffix(root, "/") + "/"
	if !strings.HasPrefix(p, prefix) {
		return "", false
	}
	return p[len(prefix):], true
}

func (r *runner) mark(ev event, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.overflow {
		if !r.full {
			r.full, r.fullSince = true, now
		}
		return
	}
	if _, ok := r.dirty[ev.pair][ev.rel]; !ok {
		r.dirty[ev.pair][ev.rel] = now
	}
}

// round sends what is dirty (everything after an overflow, at a rescan
// and at the start).
func (r *runner) round(ctx context.Context) error {
	r.mu.Lock()
	full, fullSince := r.full, r.fullSince
	taken := r.dirty
	r.dirty = make([]map[string]time.Time, len(taken))
	for i := range r.dirty {
		r.dirty[i] = map[string]time.Time{}
	}
	r.full = false
	starts := make([][]string, len(taken))
	oldest := time.Time{}
	for i, d := range taken {
		if full {
			starts[i] = []string{""}
		}
		for rel, t := range d {
			if !full {
				starts[i] = append(starts[i], rel)
			}
			if oldest.IsZero() || t.Before(oldest) {
				oldest = t
			}
		}
	}
	if full && (oldest.IsZero() || fullSince.Before(oldest)) {
		oldest = fullSince
	}
	r.inFlight = oldest
	r.mu.Unlock()
	if oldest.IsZero() {
		return nil
	}

	pl, err := r.m.PlanPaths(ctx, starts)
	var rep *mirror.Report
	if err == nil {
		rep, err = r.m.Apply(ctx, pl, nil)
	}
	var ae *mirror.ApplyError
	problems := error(nil)
	if errors.As(err, &ae) {
		problems, err = err, nil
	}
	end := time.Now()

	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight = time.Time{}
	if err != nil {
		// Nothing of this round is known to be sent: it stays dirty.
		r.requeue(taken, full, fullSince)
		return err
	}
	retry := map[[2]string]bool{}
	for _, pe := range rep.Retry {
		retry[[2]string{fmt.Sprint(pe.Pair), pe.Path}] = true
		if _, ok := r.dirty[pe.Pair][pe.Path]; !ok {
			t, ok := taken[pe.Pair][pe.Path]
			if !ok {
				t = oldest
			}
			r.dirty[pe.Pair][pe.Path] = t
		}
	}
	for i, d := range taken {
		for rel, t := range d {
			if !retry[[2]string{fmt.Sprint(i), rel}] && len(r.lags) < maxLags {
				r.lags = append(r.lags, end.Sub(t))
			}
		}
	}
	if full && r.status.Rounds > 0 {
		r.status.Rescans++
	}
	r.status.Rounds++
	r.status.Entries += int64(rep.Done.Add + rep.Done.Update + rep.Done.Delete)
	r.status.Bytes += rep.Done.Bytes
	r.status.Problems = problems
	return nil
}

// maxLags bounds the lag samples kept for the percentiles.
const maxLags = 1 << 20

// requeue puts a failed round's paths back.
func (r *runner) requeue(taken []map[string]time.Time, full bool, fullSince time.Time) {
	for i, d := range taken {
		for rel, t := range d {
			if old, ok := r.dirty[i][rel]; !ok || t.Before(old) {
				r.dirty[i][rel] = t
			}
		}
	}
	if full && (!r.full || fullSince.Before(r.fullSince)) {
		r.full, r.fullSince = true, fullSince
	}
}

// current is the status now; r.mu held.
func (r *runner) current(now time.Time) Status {
	s := r.status
	oldest := r.inFlight
	for _, d := range r.dirty {
		s.Pending += len(d)
		for _, t := range d {
			if oldest.IsZero() || t.Before(oldest) {
				oldest = t
			}
		}
	}
	if r.full && (oldest.IsZero() || r.fullSince.Before(oldest)) {
		oldest = r.fullSince
	}
	if !oldest.IsZero() {
		s.Lag = now.Sub(oldest)
	}
	return s
}

func (r *runner) reporter() (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.o.ReportEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				r.report()
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

func (r *runner) stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{Rounds: r.status.Rounds, Rescans: r.status.Rescans, Entries: r.status.Entries, Bytes: r.status.Bytes, Changes: len(r.lags)}
	if len(r.lags) > 0 {
		lags := slices.Clone(r.lags)
		slices.Sort(lags)
		at := func(q float64) time.Duration { return lags[min(len(lags)-1, int(q*float64(len(lags))))] }
		s.LagP50, s.LagP99, s.LagMax = at(0.50), at(0.99), lags[len(lags)-1]
	}
	return s
}
