package drill

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// A drill's namespace holds interfaces named as production's with
// production's subnets, its own loopback, and nothing of production; the
// teardown kills what runs in it and deletes it, and the proof finds
// nothing left, also after a teardown in another inventory (a killed
// drill's cleanup).
func TestNamespace(t *testing.T) {
	testenv.Root(t)
	testenv.Command(t, "ip", "iproute2")
	// Production: a namespace of the test's own with eth0 in 192.0.2.0/24.
	prod := "drover-t-prod-" + strings.ReplaceAll(t.Name(), "/", "-")
	run(t, "ip", "netns", "add", prod)
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", prod).Run() })
	run(t, "ip", "-n", prod, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
	run(t, "ip", "-n", prod, "addr", "add", "192.0.2.2/24", "dev", "eth0")
	run(t, "ip", "-n", prod, "link", "set", "eth0", "up")
	prodBefore := run(t, "ip", "-n", prod, "-br", "addr", "show")

	got, err := InterfaceAddrs(ctx, machine, prod, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
		t.Fatalf("InterfaceAddrs (-want +got):\n%s", d)
	}
	if _, err := InterfaceAddrs(ctx, machine, prod, "eth9"); err == nil || !strings.Contains(err.Error(), "eth9") {
		t.Fatalf("InterfaceAddrs of a missing interface: %v, want an error naming it", err)
	}

	for _, tc := range []struct {
		name string
		// cleanup tears down through a second inventory, as drover
		// drill cleanup does after a SIGKILL.
		cleanup bool
	}{{"teardown", false}, {"cleanup", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			inv := openInventory(t, dir)
			name := inv.Name("fs2")
			if err := inv.Namespace(ctx, machine, name, "fs2's network", []Interface{{Name: "eth0", Addresses: got}}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })
			if err := inv.Namespace(ctx, machine, name, "again", nil); err == nil || !strings.Contains(err.Error(), "there already") {
				t.Fatalf("a namespace made twice: %v, want refused", err)
			}
			links := run(t, "ip", "-n", name, "-br", "addr", "show", "eth0")
			if !strings.Contains(links, "UP") || !strings.Contains(links, "192.0.2.2/24") {
				t.Fatalf("eth0 in the drill's namespace: %s, want up with 192.0.2.2/24", links)
			}
			routes := run(t, "ip", "-n", name, "route", "show")
			if !strings.Contains(routes, "192.0.2.0/24 dev eth0") {
				t.Fatalf("routes in the drill's namespace: %s, want the subnet's", routes)
			}
			// A process in the namespace, which its teardown must end.
			sleep := exec.Command("ip", "netns", "exec", name, "sleep", "1000")
			if err := sleep.Start(); err != nil {
				t.Fatal(err)
			}
			waited := make(chan error, 1)
			go func() { waited <- sleep.Wait() }()
			t.Cleanup(func() { sleep.Process.Kill() })
			waitFor(t, func() bool { return run(t, "ip", "netns", "pids", name) != "" })

			if tc.cleanup {
				inv.Close()
				inv = openInventory(t, dir)
			}
			if err := inv.Teardown(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-waited:
				if err == nil {
					t.Error("the process in the namespace ended by itself, not killed")
				}
			case <-time.After(10 * time.Second):
				t.Error("the process in the namespace still runs after the teardown")
			}
			leaks, err := inv.Prove(ctx)
			if err != nil || len(leaks) > 0 {
				t.Fatalf("Prove: %v, %v; want nothing left", leaks, err)
			}
			if strings.Contains(run(t, "ip", "netns", "list"), name) {
				t.Error("the namespace is still listed")
			}
			if after := run(t, "ip", "-n", prod, "-br", "addr", "show"); after != prodBefore {
				t.Errorf("production's addresses changed:\n%s\nwas\n%s", after, prodBefore)
			}
		})
	}
}

// A drill's UTS namespace is pinned at its file with production's host
// name, takes a name of its own without renaming production, and its
// teardown (also through a second inventory, as after a SIGKILL) unmounts
// the pin and removes it; a pin left mounted is a leak the proof names.
func TestUTSNamespace(t *testing.T) {
	testenv.Root(t)
	testenv.Command(t, "unshare", "util-linux")
	nsenter := testenv.Command(t, "nsenter", "util-linux")
	own := run(t, "hostname")
	for _, tc := range []struct {
		name    string
		cleanup bool
	}{{"teardown", false}, {"cleanup", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			inv := openInventory(t, dir)
			pin := filepath.Join(t.TempDir(), "uts", "drill-fs2")
			if err := inv.UTSNamespace(ctx, machine, pin, "fs2's host name"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { exec.Command("umount", pin).Run() })
			if err := inv.UTSNamespace(ctx, machine, pin, "again"); err == nil || !strings.Contains(err.Error(), "there already") {
				t.Fatalf("a pin made twice: %v, want refused", err)
			}
			if got := run(t, nsenter, "--uts="+pin, "hostname"); got != own {
				t.Fatalf("the drill's host name is %q, want production's %q", got, own)
			}
			run(t, nsenter, "--uts="+pin, "hostname", "fs1")
			if got := run(t, nsenter, "--uts="+pin, "hostname"); got != "fs1" {
				t.Fatalf("the drill's host name is %q after hostname fs1", got)
			}
			if got := run(t, "hostname"); got != own {
				t.Fatalf("production's host name changed from %q to %q", own, got)
			}
			leaks, err := inv.Prove(ctx)
			if err != nil || len(leaks) != 1 || !strings.Contains(leaks[0].String(), "still mounted") {
				t.Fatalf("Prove before the teardown: %v, %v; want the pin still mounted", leaks, err)
			}
			if tc.cleanup {
				inv.Close()
				inv = openInventory(t, dir)
			}
			if err := inv.Teardown(ctx); err != nil {
				t.Fatal(err)
			}
			if leaks, err := inv.Prove(ctx); err != nil || len(leaks) > 0 {
				t.Fatalf("Prove: %v, %v; want nothing left", leaks, err)
			}
			if _, err := os.Lstat(pin); !os.IsNotExist(err) {
				t.Errorf("the pin is still there: %v", err)
			}
		})
	}
}

// A QEMU object is found by the pidfile its command line names, whatever
// the pidfile says: left running it is a leak the proof names by pid, and
// the teardown kills it (also through a second inventory).
func TestQEMUKind(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cleanup bool
	}{{"teardown", false}, {"cleanup", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			inv := openInventory(t, dir)
			pidfile := filepath.Join(dir, "a.qemu", "qemu.pid")
			if _, err := inv.Record(ctx, machine, Object{Kind: QEMU, ID: pidfile, Note: "the QEMU of vm_guest.a"}); err != nil {
				t.Fatal(err)
			}
			// A stand-in whose command line names the pidfile as QEMU's
			// does (-pidfile PIDFILE); the pidfile itself is never written.
			// It waits on a pipe never written, with no child of its own.
			p := exec.Command("sh", "-c", "read line", "-pidfile", pidfile)
			stdin, err := p.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { stdin.Close() })
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			waited := make(chan error, 1)
			go func() { waited <- p.Wait() }()
			t.Cleanup(func() { p.Process.Kill() })
			leaks, err := inv.Prove(ctx)
			if err != nil || len(leaks) != 1 || !strings.Contains(leaks[0].String(), "QEMU still running as pid "+strconv.Itoa(p.Process.Pid)) {
				t.Fatalf("Prove while it runs: %v, %v; want it named by pid", leaks, err)
			}
			if tc.cleanup {
				inv.Close()
				inv = openInventory(t, dir)
			}
			if err := inv.Teardown(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case <-waited:
			case <-time.After(10 * time.Second):
				t.Fatal("the process still runs after the teardown")
			}
			if leaks, err := inv.Prove(ctx); err != nil || len(leaks) > 0 {
				t.Fatalf("Prove: %v, %v; want nothing left", leaks, err)
			}
		})
	}
}
