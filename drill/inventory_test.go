package drill

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

func TestJournal(t *testing.T) {
	header := `{"format":"drover-drill-inventory","version":1,"drill":"0123456789ab"}` + "\n"
	clone := `{"create":{"seq":1,"kind":"file","host":"fs1","id":"/drill/clones/SYSTEM"}}` + "\n"
	mount := `{"create":{"seq":2,"kind":"mount","host":"fs1","id":"/drill/clones/replica"}}` + "\n"
	tests := []struct {
		name    string
		journal string
		// objects are the IDs read back, and the journal's content after
		// opening; err what a refused journal's error holds.
		objects []string
		after   string
		err     string
	}{
		{"whole", header + clone + mount, []string{"/drill/clones/SYSTEM", "/drill/clones/replica"}, header + clone + mount, ""},
		{"a last line torn", header + clone + mount[:30], []string{"/drill/clones/SYSTEM"}, header + clone, ""},
		{"a torn line that parses", header + clone + strings.TrimSuffix(mount, "\n"), []string{"/drill/clones/SYSTEM"}, header + clone, ""},
		{"a line changed in the middle", header + "nonsense\n" + clone, nil, "", "inventory.jsonl:2: not an inventory record"},
		{"another document", `{"format":"drover-run"}` + "\n", nil, "", "not a drill inventory"},
		{"a newer version", strings.Replace(header, `"version":1`, `"version":2`, 1), nil, "", "inventory version 2 is newer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, JournalName)
			if err := os.WriteFile(file, []byte(tc.journal), 0o600); err != nil {
				t.Fatal(err)
			}
			inv, err := OpenInventory(ctx, machine, dir, InventoryOptions{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("OpenInventory: %v, want an error holding %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer inv.Close()
			var ids []string
			for _, o := range inv.Objects() {
				ids = append(ids, o.ID)
			}
			if diff := cmp.Diff(tc.objects, ids); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			b, _ := os.ReadFile(file)
			if diff := cmp.Diff(tc.after, string(b)); diff != "" {
				t.Errorf("journal after opening (-want +got):\n%s", diff)
			}
			// A record appended after a torn line starts a line of its own.
			o, err := inv.Record(ctx, machine, Object{Kind: File, ID: "/drill/clones/BCD"})
			if err != nil {
				t.Fatal(err)
			}
			if o.Seq != len(tc.objects)+1 {
				t.Errorf("Seq %d, want %d", o.Seq, len(tc.objects)+1)
			}
			inv.Close()
			again := openInventory(t, dir)
			if got := again.Objects(); len(got) != len(tc.objects)+1 || !cmp.Equal(got[len(got)-1], o) || again.ID() != "0123456789ab" {
				t.Errorf("reopened: %v of drill %s", got, again.ID())
			}
		})
	}
	t.Run("a torn header", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, JournalName), []byte(header[:20]), 0o600)
		inv := openInventory(t, dir)
		b, _ := os.ReadFile(filepath.Join(dir, JournalName))
		if inv.ID() == "0123456789ab" || len(inv.ID()) != 12 || string(b) != strings.Replace(header, "0123456789ab", inv.ID(), 1) {
			t.Errorf("drill %s, journal %q", inv.ID(), b)
		}
	})
	t.Run("records made at once", func(t *testing.T) {
		dir := t.TempDir()
		inv := openInventory(t, dir)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				if _, err := inv.Record(ctx, machine, Object{Kind: File, ID: fmt.Sprintf("/drill/clones/%d", i)}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		inv.Close()
		var seqs []int
		for _, o := range openInventory(t, dir).Objects() {
			seqs = append(seqs, o.Seq)
		}
		if len(seqs) != 20 || !slices.IsSorted(seqs) || seqs[0] != 1 || seqs[19] != 20 {
			t.Errorf("reopened, the records are %v", seqs)
		}
	})
	t.Run("a void object is neither removed nor proved", func(t *testing.T) {
		dir := t.TempDir()
		theirs := filepath.Join(dir, "theirs")
		os.WriteFile(theirs, nil, 0o600)
		journal := header + `{"create":{"seq":1,"kind":"file","host":"fs1","id":"` + theirs + `"}}` + "\n" + `{"void":1}` + "\n"
		os.WriteFile(filepath.Join(dir, JournalName), []byte(journal), 0o600)
		inv := openInventory(t, dir)
		if err := inv.Teardown(ctx); err != nil {
			t.Fatal(err)
		}
		if leaks, err := inv.Prove(ctx); err != nil || len(leaks) > 0 {
			t.Errorf("Prove: %v, %v", leaks, err)
		}
		if _, err := os.Stat(theirs); err != nil {
			t.Errorf("the teardown removed a void object: %v", err)
		}
	})
	t.Run("an unknown kind is refused before anything is created", func(t *testing.T) {
		inv := openInventory(t, t.TempDir())
		if _, err := inv.Record(ctx, machine, Object{Kind: "guest", ID: "g1"}); err == nil || !strings.Contains(err.Error(), `no drill object kind "guest"`) {
			t.Errorf("Record: %v", err)
		}
	})
}

// guestKind stands for a kind the engine implements (a guest): the
// object is a file standing for the guest. A stalling one never returns
// from Remove, so that a test can kill its teardown there.
type guestKind struct{ stall bool }

func (g guestKind) Remove(ctx context.Context, h host.Host, o Object) error {
	if g.stall {
		fmt.Println("stalled")
		<-ctx.Done()
	}
	return h.Remove(ctx, o.ID)
}

func (guestKind) Left(ctx context.Context, h host.Host, o Object) (string, error) {
	if _, err := h.Lstat(ctx, o.ID); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return "the guest is still defined", nil
}

func drillOptions(stall bool) InventoryOptions {
	return InventoryOptions{Kinds: map[string]Kind{"guest": guestKind{stall: stall}}}
}

// The test binary doubles as the drill process TestTeardownAfterKill
// starts and kills: with phaseEnv set, it does what that says, in the
// drill folder dirEnv, and prints when it got there, instead of testing.
const (
	phaseEnv   = "DROVER_DRILL_TEST_PHASE"
	dirEnv     = "DROVER_DRILL_TEST_DIR"
	xfsEnv     = "DROVER_DRILL_TEST_XFS"
	replicaEnv = "DROVER_DRILL_TEST_REPLICA"
)

func TestMain(m *testing.M) {
	if phase := os.Getenv(phaseEnv); phase != "" {
		if err := drillProcess(phase, os.Getenv(dirEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "drill process:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func drillProcess(phase, dir string) error {
	inv, err := OpenInventory(ctx, machine, dir, drillOptions(phase == "stalled teardown"))
	if err != nil {
		return err
	}
	switch phase {
	case "drill":
		if err := startDrill(inv, os.Getenv(xfsEnv), os.Getenv(replicaEnv)); err != nil {
			return err
		}
		fmt.Println("ready")
		select {} // killed here
	case "stalled teardown", "teardown":
		return inv.Teardown(ctx)
	}
	return fmt.Errorf("unknown phase %q", phase)
}

// startDrill creates what a drill would: clones, an overlay mount, a loop
// device, a namespace, a guest, a process, each recorded first.
func startDrill(inv *Inventory, xfs, replica string) error {
	clones := filepath.Join(inv.file, "..", "clones")
	img, err := inv.Clone(ctx, machine, filepath.Join(xfs, "system.img"), filepath.Join(xfs, "drill-"+inv.ID()), CloneOptions{Disk: true})
	if err != nil || img.Method != Reflink {
		return fmt.Errorf("cloning the image: %v, %w", img, err)
	}
	if c, err := inv.Clone(ctx, machine, replica, clones, CloneOptions{}); err != nil || c.Method != Overlayfs {
		return fmt.Errorf("cloning the replica: %v, %w", c, err)
	}
	guest := filepath.Join(clones, "guest.xml")
	if _, err := inv.Record(ctx, machine, Object{Kind: "guest", ID: guest}); err != nil {
		return err
	}
	if err := os.WriteFile(guest, []byte("<domain/>"), 0o600); err != nil {
		return err
	}
	if _, err := inv.Record(ctx, machine, Object{Kind: Loop, ID: img.Path}); err != nil {
		return err
	}
	if out, err := exec.Command("losetup", "--find", "--show", img.Path).CombinedOutput(); err != nil {
		return fmt.Errorf("losetup: %w: %s", err, out)
	}
	ns, err := inv.Record(ctx, machine, Object{Kind: Netns, ID: inv.Name("net")})
	if err != nil {
		return err
	}
	if out, err := exec.Command("ip", "netns", "add", ns.ID).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add: %w: %s", err, out)
	}
	proc, err := inv.Record(ctx, machine, Object{Kind: Process, ID: inv.Name("sleep")})
	if err != nil {
		return err
	}
	sleep := exec.Command("sleep", "1000")
	sleep.Env = append(os.Environ(), ProcessEnv(proc))
	return sleep.Start()
}

// machineState is what the test's drill shows of the machine: the lines of
// `ip netns list`, `losetup -a` and /proc/self/mountinfo naming one of
// marks, and the files below the folders in marks.
func machineState(t *testing.T, marks ...string) map[string][]string {
	state := map[string][]string{}
	mountinfo, _ := os.ReadFile("/proc/self/mountinfo")
	for what, out := range map[string]string{
		"ip netns list": run(t, "ip", "netns", "list"),
		"losetup -a":    run(t, "losetup", "-a"),
		"mountinfo":     string(mountinfo),
	} {
		for line := range strings.Lines(out) {
			if slices.ContainsFunc(marks, func(m string) bool { return strings.Contains(line, m) }) {
				state[what] = append(state[what], strings.TrimSpace(line))
			}
		}
	}
	for _, m := range marks {
		filepath.WalkDir(m, func(p string, d fs.DirEntry, err error) error {
			if err == nil {
				state["files"] = append(state["files"], p)
			}
			return nil
		})
	}
	return state
}

// TestTeardownAfterKill kills a drill process once it created everything,
// then a teardown midway, and tears down in a third process: nothing of
// the drill is left, and the source is as it was.
func TestTeardownAfterKill(t *testing.T) {
	testenv.Root(t)
	testenv.Command(t, "ip", "iproute2")
	xfs := fsOnLoop(t, "mkfs.xfs", "-q", "-m", "reflink=1")
	randomFile(t, filepath.Join(xfs, "system.img"), 4<<20, 5)
	replica := tree(t, t.TempDir())
	dir := filepath.Join(t.TempDir(), "drill")
	protected, err := Fingerprint(ctx, machine, filepath.Join(xfs, "system.img"), replica)
	if err != nil {
		t.Fatal(err)
	}
	marks := []string{xfs, filepath.Dir(dir), "drover-drill-"}
	before := machineState(t, marks...)

	start := func(phase, until string) *exec.Cmd {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), phaseEnv+"="+phase, dirEnv+"="+dir, xfsEnv+"="+xfs, replicaEnv+"="+replica)
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		seen := make(chan string)
		go func() {
			var lines []string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines = append(lines, sc.Text())
				if sc.Text() == until {
					seen <- until
					io.Copy(io.Discard, out)
					return
				}
			}
			seen <- strings.Join(lines, "\n")
		}()
		select {
		case got := <-seen:
			if got != until {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("%s: ended before printing %q:\n%s", phase, until, got)
			}
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%s: no %q within a minute", phase, until)
		}
		return cmd
	}
	kill := func(cmd *exec.Cmd) {
		cmd.Process.Kill()
		cmd.Wait()
	}

	t.Cleanup(func() {
		if inv, err := OpenInventory(context.Background(), machine, dir, drillOptions(false)); err == nil {
			inv.Teardown(context.Background())
			inv.Close()
		}
	})
	drill := start("drill", "ready")
	// No teardown starts under a running drill.
	if inv, err := OpenInventory(ctx, machine, dir, drillOptions(false)); err == nil || !strings.Contains(err.Error(), "is still running in another process") {
		t.Errorf("OpenInventory of a running drill: %v", err)
		inv.Close()
	}
	kill(drill)
	inv := openInventory(t, dir)
	inv.opts = drillOptions(false)
	leaks, err := inv.Prove(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, l := range leaks {
		kinds = append(kinds, l.Object.Kind)
	}
	t.Logf("the killed drill left: %v", leaks)
	// Every object is there: the folders of the clones, the image clone,
	// the overlay's folders and mount, the guest, the loop device, the
	// namespace and the process.
	if diff := cmp.Diff([]string{File, File, File, File, File, Mount, "guest", Loop, Netns, Process}, kinds); diff != "" {
		t.Fatalf("the killed drill left (-want +got):\n%s\n%v", diff, leaks)
	}

	inv.Close()
	kill(start("stalled teardown", "stalled"))
	inv = openInventory(t, dir)
	inv.opts = drillOptions(false)
	leaks, err = inv.Prove(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(leaks) != 7 || leaks[len(leaks)-1].Object.Kind != "guest" {
		t.Fatalf("after a teardown killed at the guest, left: %v", leaks)
	}

	inv.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), phaseEnv+"=teardown", dirEnv+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("teardown: %v\n%s", err, out)
	}
	inv = openInventory(t, dir)
	inv.opts = drillOptions(false)
	if leaks, err := inv.Prove(ctx); err != nil || len(leaks) > 0 {
		t.Fatalf("Prove after the teardown: %v, %v", leaks, err)
	}
	after := machineState(t, marks...)
	after["files"] = slices.DeleteFunc(after["files"], func(p string) bool { return p == dir || p == filepath.Join(dir, JournalName) })
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the machine after the drill (-before +after):\n%s", diff)
	}
	now, err := Fingerprint(ctx, machine, filepath.Join(xfs, "system.img"), replica)
	if err != nil {
		t.Fatal(err)
	}
	if ch := Changes(protected, now); len(ch) > 0 {
		t.Errorf("the drill changed its sources: %v", ch)
	}
}
