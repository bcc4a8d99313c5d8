package lang

import (
	"runtime/debug"
	"testing"
)

// TestPauseCollectionRestores overlaps two pauses, as two folders loaded
// at once do, and checks that the collector runs again, with the settings
// it had, only once both ended.
func TestPauseCollectionRestores(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(70))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(8 << 40))
	first := pauseCollection()
	second := pauseCollection()
	first()
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GC percent %d after the first of two pauses ended, want -1 (paused)", p)
	}
	if l := debug.SetMemoryLimit(-1); l >= 8<<40 {
		t.Errorf("memory limit %d while paused, want the pause's budget below the 8 TiB set", l)
	}
	second()
	if p := debug.SetGCPercent(70); p != 70 {
		t.Errorf("GC percent %d after both pauses ended, want 70", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 8<<40 {
		t.Errorf("memory limit %d after both pauses ended, want 8 TiB", l)
	}
}
