package replication

import (
	"fmt"
	"strings"
	"time"

	"github.com/drover-dr/drover/providers/builtin/replication/mirror"
)

// maxItems is how many changes a plan description lists.
const maxItems = 100

// describe is a plan's description: a summary line with the data-loss
// window, then the itemised changes, each path as the source host names
// it.
func describe(pl *mirror.Plan, m *mirror.Mirror, last, now time.Time) string {
	var b strings.Builder
	b.WriteString(pl.Summary.String())
	if w := window(pl.Summary, last, now); w > 0 {
		fmt.Fprintf(&b, "; oldest unreplicated change %s ago", roundAge(w))
	}
	switch hosts := m.WithoutOps(); len(hosts) {
	case 0:
	case 1:
		fmt.Fprintf(&b, "\n(%s is reached without the agent: its folders are walked one by one over SFTP)", hosts[0])
	default:
		fmt.Fprintf(&b, "\n(%s are reached without the agent: their folders are walked one by one over SFTP)", strings.Join(hosts, " and "))
	}
	if hosts := pl.Unwatched(); len(hosts) > 0 {
		fmt.Fprintf(&b, "\n(apply walks both sides again before mirroring: nothing can watch the folders on %s for changes since this plan)", strings.Join(hosts, " and "))
	}
	for i := range pl.Changes {
		if i == maxItems {
			fmt.Fprintf(&b, "\n… and %d more (`drover verify ADDR` lists every difference)", len(pl.Changes)-maxItems)
			break
		}
		c := pl.Changes[i]
		c.Path = pairPath(m, c.Pair, c.Path)
		b.WriteString("\n" + c.String())
	}
	return b.String()
}

// window is the set's data-loss window: how long the oldest change not on
// the target has waited. A change cannot predate the last mirror, however
// old the file's time (a file copied in with its old time).
func window(s mirror.Summary, last, now time.Time) time.Duration {
	if s.Empty() {
		return 0
	}
	oldest := time.Unix(0, s.Oldest)
	if s.Oldest == 0 || oldest.Before(last) {
		oldest = last
	}
	if oldest.IsZero() {
		return 0
	}
	return now.Sub(oldest)
}

// roundAge renders an age to two units: 45s, 3m12s, 2h13m, 5d4h.
func roundAge(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%ds", s/60, s%60)
	case s < 48*3600:
		return fmt.Sprintf("%dh%dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%dh", s/86400, s%86400/3600)
}
