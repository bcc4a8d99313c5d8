package blocks

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
)

// TestMain lets the test binary play a copy process that the crash test
// kills.
func TestMain(m *testing.M) {
	if src := os.Getenv("DROVER_BLOCKS_COPY_SRC"); src != "" {
		os.Exit(copyProcess(src, os.Getenv("DROVER_BLOCKS_COPY_DST")))
	}
	os.Exit(m.Run())
}

func copyProcess(srcPath, dst string) int {
	src, err := os.Open(srcPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fi, _ := src.Stat()
	t := Beside(host.NewLocal("crash", ""), dst)
	if _, err := Copy(context.Background(), src, t, Options{Size: fi.Size(), BlockSize: 4096}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestKilledCopyLeavesACompleteGeneration kills real copy processes with
// SIGKILL at random moments, first and incremental copies alike, and
// checks each time that recovery leaves the target exactly one complete
// generation, and that the next copy completes it.
func TestKilledCopyLeavesACompleteGeneration(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes")
	}
	ctx := context.Background()
	const size = 16 << 20
	f := newFixture(t, size)
	rng := rand.New(rand.NewPCG(42, 42))

	run := func(kill time.Duration) (killed bool) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "DROVER_BLOCKS_COPY_SRC="+f.src, "DROVER_BLOCKS_COPY_DST="+f.target.Path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		timer := time.AfterFunc(kill, func() { cmd.Process.Signal(syscall.SIGKILL) })
		err := cmd.Wait()
		timer.Stop()
		if err == nil {
			return false
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("the copy process failed on its own: %v\n%s", err, stderr.String())
		}
		return true
	}

	run(time.Hour)
	f.requireSame()
	// How long an uninterrupted incremental copy takes bounds the kill
	// moments.
	f.scribble(99, 400, 20000)
	start := time.Now()
	run(time.Hour)
	full := time.Since(start)
	f.requireSame()

	for i := range 8 {
		prev := f.targetBytes()
		prevGen := mustManifest(t, f.target).Generation
		f.scribble(uint64(100+i), 400, 20000)
		next := f.source()
		if i == 4 {
			// A first copy killed: it must resume, not start over blind.
			os.Remove(f.target.Manifest)
			prev, prevGen = nil, 0
		}
		killed := run(time.Duration(rng.Int64N(int64(full))))
		st, err := f.target.Inspect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.target.Recover(ctx); err != nil {
			t.Fatalf("round %d: recover: %v", i, err)
		}
		m := mustManifest(t, f.target)
		got := f.targetBytes()
		switch {
		case m.State == Complete && m.Generation == prevGen+1 && bytes.Equal(got, next):
		case m.State == Complete && m.Generation == prevGen && prev != nil && bytes.Equal(got, prev):
		case m.State == Partial && prev == nil:
		default:
			t.Fatalf("round %d (killed %v, interrupted %v): the target is generation %d (%s) of unknown content; before it was %d",
				i, killed, st.Interrupted, m.Generation, m.State, prevGen)
		}
		t.Logf("round %d: killed %v, journal left %v, now generation %d %s", i, killed, st.Interrupted, m.Generation, m.State)
		if run(time.Hour) {
			t.Fatal("a copy was killed without being asked")
		}
		f.requireSame()
	}
}

func mustManifest(t *testing.T, tg Target) *Manifest {
	t.Helper()
	m, err := tg.LoadManifest(context.Background())
	if err != nil || m == nil {
		t.Fatalf("manifest: %v, %v", m, err)
	}
	return m
}
