package vm

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drover-dr/drover/host"
)

// TestAwaitBootNoticesMarker: a start completes at most 10 ms after the
// marker reaches the console, however the guest's printing falls between
// two looks at it: a failover's next step waits on the boot check. It runs
// in a synctest bubble, whose clock moves only when every goroutine waits,
// so it checks the schedule of the looks, not this machine's speed.
func TestAwaitBootNoticesMarker(t *testing.T) {
	dir := t.TempDir()
	h, err := host.Config{Name: "fs2", Root: dir}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	g := &guest{serial: "/console", check: &bootCheck{serial: "FS1 READY", timeout: time.Minute}}
	console := filepath.Join(dir, "console")

	for _, tc := range []struct {
		name  string
		after time.Duration
	}{
		{"at once", 0},
		{"just after a look", time.Millisecond},
		{"between looks", 37 * time.Millisecond},
		{"after a second", time.Second + 3*time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(console, []byte("SeaBIOS\r\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			synctest.Test(t, func(t *testing.T) {
				printed := make(chan time.Time, 1)
				go func() {
					time.Sleep(tc.after)
					if err := os.WriteFile(console, []byte("SeaBIOS\r\nFS1 READY\r\n"), 0o600); err != nil {
						t.Error(err)
					}
					printed <- time.Now()
				}()
				if err := awaitBoot(context.Background(), h, g, func() bool { return true }); err != nil {
					t.Fatal(err)
				}
				if late := time.Since(<-printed); late > 10*time.Millisecond {
					t.Errorf("the boot check passed %s after the marker was printed, want at most 10ms", late)
				}
			})
		})
	}
}
