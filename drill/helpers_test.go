package drill

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
)

var ctx = context.Background()

// machine is this machine as a host.
var machine = host.NewLocal("fs1", "")

func run(t testing.TB, argv ...string) string {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// fsOnLoop mounts a new file system made by mkfs (argv without the
// device) on a loop device, for the test; "" for the test's own.
func fsOnLoop(t testing.TB, mkfs ...string) string {
	t.Helper()
	if len(mkfs) == 0 {
		return t.TempDir()
	}
	return fsOnLoopSized(t, 320, mkfs...)
}

// fsOnLoopSized is fsOnLoop with a file system of mib MiB.
func fsOnLoopSized(t testing.TB, mib int64, mkfs ...string) string {
	t.Helper()
	testenv.Root(t)
	testenv.Command(t, "losetup", "mount")
	testenv.Command(t, mkfs[0], map[string]string{"mkfs.xfs": "xfsprogs", "mkfs.btrfs": "btrfs-progs"}[mkfs[0]])
	img := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, mib<<20); err != nil {
		t.Fatal(err)
	}
	dev := run(t, "losetup", "--find", "--show", img)
	t.Cleanup(func() { exec.Command("losetup", "--detach", dev).Run() })
	run(t, append(mkfs, dev)...)
	mnt := t.TempDir()
	run(t, "mount", dev, mnt)
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	return mnt
}

// randomFile writes n bytes of a seeded stream to p.
func randomFile(t testing.TB, p string, n int, seed uint64) {
	t.Helper()
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	r.Read(b)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// openInventory opens the inventory of the drill whose folder is dir.
func openInventory(t testing.TB, dir string) *Inventory {
	t.Helper()
	inv, err := OpenInventory(ctx, machine, dir, InventoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inv.Close() })
	return inv
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("still not so after 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
