package continuous

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers/builtin/replication/mirror"
)

// The test binary doubles as the writer process: with DROVER_TEST_WRITER
// set to a folder it writes, renames and deletes files there until killed
// or until it made DROVER_TEST_WRITES changes.
func TestMain(m *testing.M) {
	if dir := os.Getenv("DROVER_TEST_WRITER"); dir != "" {
		n, _ := strconv.Atoi(os.Getenv("DROVER_TEST_WRITES"))
		writer(dir, n)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func writer(dir string, n int) {
	rng := rand.New(rand.NewPCG(7, 11))
	name := func() string {
		return filepath.Join(dir, fmt.Sprintf("d%d", rng.IntN(8)), fmt.Sprintf("f%d", rng.IntN(200)))
	}
	for i := 0; n == 0 || i < n; i++ {
		p := name()
		switch op := rng.IntN(10); {
		case op < 6:
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(strings.Repeat(fmt.Sprint(i, " "), rng.IntN(2000))), 0o644)
		case op < 8:
			to := name()
			os.MkdirAll(filepath.Dir(to), 0o755)
			os.Rename(p, to)
		case op < 9:
			os.Remove(p)
		default:
			sub := filepath.Join(dir, fmt.Sprintf("d%d", rng.IntN(8)), fmt.Sprintf("new%d", i))
			os.MkdirAll(sub, 0o755)
			os.WriteFile(filepath.Join(sub, "x"), []byte("x"), 0o644)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

type env struct {
	fs1, fs2 host.Host
	src, dst string
	m        *mirror.Mirror
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	e := &env{src: filepath.Join(dir, "fs1/srv/set"), dst: filepath.Join(dir, "fs2/replica/srv/set")}
	os.MkdirAll(e.src, 0o755)
	e.fs1, e.fs2 = host.NewLocal("fs1", filepath.Join(dir, "fs1")), host.NewLocal("fs2", filepath.Join(dir, "fs2"))
	t.Cleanup(func() { e.fs1.Close(); e.fs2.Close() })
	return e
}

func (e *env) open(t *testing.T) {
	m, err := mirror.New(t.Context(), []mirror.Pair{{Source: mirror.Endpoint{Host: e.fs1, Path: "/srv/set"},
		Target: mirror.Endpoint{Host: e.fs2, Path: "/replica/srv/set"}}},
		mirror.Options{DeleteOrphans: true, Preserve: mirror.PreserveAll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	e.m = m
}

// statusLog collects reported statuses.
type statusLog struct {
	mu   sync.Mutex
	last Status
	n    int
}

func (s *statusLog) report(st Status) {
	s.mu.Lock()
	s.last, s.n = st, s.n+1
	s.mu.Unlock()
}

func (s *statusLog) get() (Status, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.n
}

// start runs the continuous mirror until the returned stop is called.
func (e *env) start(t *testing.T, log *statusLog) (stop func() (Stats, error)) {
	ctx, cancel := context.WithCancel(t.Context())
	type result struct {
		s   Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := Run(ctx, e.m, Options{Report: log.report, ReportEvery: 50 * time.Millisecond, Rescan: time.Hour})
		done <- result{s, err}
	}()
	return func() (Stats, error) {
		cancel()
		select {
		case r := <-done:
			return r.s, r.err
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not stop")
			return Stats{}, nil
		}
	}
}

// settle waits until the mirror reports nothing pending after a round
// that started after now.
func settle(t *testing.T, log *statusLog, rounds int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s, _ := log.get(); s.Rounds > rounds && s.Pending == 0 && s.Lag == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s, _ := log.get()
	t.Fatalf("the mirror never caught up: %+v", s)
}

func tree(t *testing.T, root string) map[string]string {
	out := map[string]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a temp file renamed meanwhile
		}
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		desc := fi.Mode().String()
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			desc += " " + string(b)
		}
		out[rel] = desc
		return nil
	})
	return out
}

func identical(t *testing.T, a, b string) {
	t.Helper()
	ta, tb := tree(t, a), tree(t, b)
	for p, d := range ta {
		if tb[p] != d {
			t.Errorf("%s differs: source %.40q, target %.40q", p, d, tb[p])
		}
	}
	for p := range tb {
		if _, ok := ta[p]; !ok {
			t.Errorf("%s is only on the target", p)
		}
	}
}

// TestFollowsWriterProcess runs a real writer process against the source
// while the mirror follows it; once the writer is done the trees are the
// same.
func TestFollowsWriterProcess(t *testing.T) {
	e := newEnv(t)
	os.WriteFile(filepath.Join(e.src, "before"), []byte("there before"), 0o644)
	e.open(t)
	log := &statusLog{}
	stop := e.start(t, log)
	settle(t, log, 0)

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "DROVER_TEST_WRITER="+e.src, "DROVER_TEST_WRITES=1500")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("writer: %v %s", err, out)
	}
	// The watch sees events in the order they happened: once a marker
	// written after the writer's last change is on the target, every
	// change before it has been seen, and settling finishes them.
	s, _ := log.get()
	if err := os.WriteFile(filepath.Join(e.src, "zz-marker"), []byte("end"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(e.dst, "zz-marker")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the marker written after the writer never reached the target")
		}
		time.Sleep(20 * time.Millisecond)
	}
	settle(t, log, s.Rounds)
	stats, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	identical(t, e.src, e.dst)
	if stats.Changes == 0 || stats.Rounds < 2 || stats.LagMax == 0 {
		t.Errorf("stats %+v", stats)
	}
	t.Logf("stats %+v", stats)
}

func TestStopsOnVanishedSource(t *testing.T) {
	e := newEnv(t)
	os.WriteFile(filepath.Join(e.src, "f"), []byte("f"), 0o644)
	e.open(t)
	log := &statusLog{}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, e.m, Options{Report: log.report, ReportEvery: 50 * time.Millisecond})
		done <- err
	}()
	settle(t, log, 0)
	os.RemoveAll(e.src)
	select {
	case err := <-done:
		if !errors.Is(err, mirror.ErrSourceVanished) {
			t.Fatalf("err = %v, want ErrSourceVanished", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run went on after its source vanished")
	}
	if _, err := os.Stat(filepath.Join(e.dst, "f")); err != nil {
		t.Errorf("the replica lost its file: %v", err)
	}
}

// TestStopMidCopy stops while large files are being sent: nothing is
// half-written and no temp file stays.
func TestStopMidCopy(t *testing.T) {
	e := newEnv(t)
	e.open(t)
	log := &statusLog{}
	stop := e.start(t, log)
	settle(t, log, 0)
	big := strings.Repeat("0123456789", 1<<20)
	for i := range 8 {
		os.WriteFile(filepath.Join(e.src, fmt.Sprint("big", i)), []byte(big), 0o644)
	}
	time.Sleep(600 * time.Millisecond)
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(e.dst)
	for _, d := range entries {
		if strings.HasSuffix(d.Name(), ".drover-tmp") {
			t.Errorf("temp file left: %s", d.Name())
			continue
		}
		if b, _ := os.ReadFile(filepath.Join(e.dst, d.Name())); len(b) != len(big) {
			t.Errorf("%s is half-written: %d bytes", d.Name(), len(b))
		}
	}
}

// TestOverflowRescans loses events on purpose: while a slow round runs
// (a bandwidth-limited copy), more files are made than the kernel queues
// events for. The overflow makes the next round compare everything, and
// every file arrives.
func TestOverflowRescans(t *testing.T) {
	// A small event queue for the watch this test makes (the kernel reads
	// the limit when a watch is created), so that the flood below
	// overflows it however fast the watcher drains it.
	testenv.Root(t)
	const limit = "/proc/sys/fs/inotify/max_queued_events"
	orig, err := os.ReadFile(limit)
	if err != nil {
		t.Skip("no inotify queue limit to exceed:", err)
	}
	restore := func() { os.WriteFile(limit, orig, 0o644) }
	t.Cleanup(restore)
	if err := os.WriteFile(limit, []byte("256"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	m, err := mirror.New(t.Context(), []mirror.Pair{{Source: mirror.Endpoint{Host: e.fs1, Path: "/srv/set"},
		Target: mirror.Endpoint{Host: e.fs2, Path: "/replica/srv/set"}}},
		mirror.Options{DeleteOrphans: true, Preserve: mirror.PreserveAll, Bandwidth: 512 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	e.m = m
	// The flood's folder is there and watched before the flood: files
	// made in a folder not watched yet arrive by its scan, not as events.
	dir := filepath.Join(e.src, "flood")
	os.MkdirAll(dir, 0o755)
	log := &statusLog{}
	stop := e.start(t, log)
	settle(t, log, 0)
	restore()
	os.WriteFile(filepath.Join(e.src, "slow"), bytes.Repeat([]byte{1}, 2<<20), 0o644)
	// Wait for the round sending it: while a round runs nobody reads the
	// watch, so the flood below overflows its queue.
	deadline := time.Now().Add(10 * time.Second)
	for s, _ := log.get(); !(s.Pending == 0 && s.Lag > 0); s, _ = log.get() {
		if time.Now().After(deadline) {
			t.Fatalf("the round sending the slow file never started: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	const writers, each = 8, 1024
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d-%d", w, i)))
				if err != nil {
					t.Error(err)
					return
				}
				f.Close()
			}
		})
	}
	wg.Wait()
	settle(t, log, 2)
	stats, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Rescans == 0 {
		t.Errorf("no rescan after the flood: %+v", stats)
	}
	identical(t, e.src, e.dst)
}
