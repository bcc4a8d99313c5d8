package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
	"github.com/rogpeppe/go-internal/testscript"
)

// driveCondition adds [root] (the tests run as root) and [ci] (CI=true,
// where a script must not skip for a missing component: write
// `[!root] [!ci] skip` so that CI fails instead).
func driveCondition(cond string) (bool, error) {
	switch cond {
	case "root":
		return os.Geteuid() == 0, nil
	case "ci":
		return testenv.InCI(), nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// driveCmds are the script commands that make and change drives.
var driveCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// mkimage FILE BYTES: a sparse file of that size.
	"mkimage": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: mkimage FILE BYTES")
		}
		n, err := strconv.ParseInt(args[1], 10, 64)
		ts.Check(err)
		p := ts.MkAbs(args[0])
		ts.Check(os.MkdirAll(filepath.Dir(p), 0o755))
		f, err := os.Create(p)
		ts.Check(err)
		ts.Check(f.Truncate(n))
		ts.Check(f.Close())
	},
	// writeat FILE OFFSET TEXT: writes TEXT at OFFSET, as a live system
	// writes its disk.
	"writeat": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 3 {
			ts.Fatalf("usage: writeat FILE OFFSET TEXT")
		}
		off, err := strconv.ParseInt(args[1], 10, 64)
		ts.Check(err)
		f, err := os.OpenFile(ts.MkAbs(args[0]), os.O_WRONLY, 0)
		ts.Check(err)
		_, err = f.WriteAt([]byte(args[2]), off)
		ts.Check(err)
		ts.Check(f.Close())
	},
	// mkdrive FILE: a 64 MiB drive image with a GPT and one ext4 partition
	// holding /etc/hosts, /report.txt and /same.txt.
	"mkdrive": func(ts *testscript.TestScript, neg bool, args []string) {
		p := ts.MkAbs(args[0])
		sh(ts, "truncate", "-s", "64M", p)
		cmd := exec.Command("sfdisk", "--quiet", p)
		cmd.Stdin = strings.NewReader("label: gpt\n,\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			ts.Fatalf("sfdisk: %v\n%s", err, out)
		}
		onPartition(ts, p, func(dev, mnt string) {
			ts.Check(os.MkdirAll(filepath.Join(mnt, "etc"), 0o755))
			ts.Check(os.WriteFile(filepath.Join(mnt, "etc/hosts"), []byte("127.0.0.1 fs1\n"), 0o644))
			ts.Check(os.WriteFile(filepath.Join(mnt, "report.txt"), []byte("quarterly figures\n"), 0o600))
			ts.Check(os.WriteFile(filepath.Join(mnt, "same.txt"), []byte("same\n"), 0o644))
		}, true)
	},
	// editdrive FILE: changes /etc/hosts, deletes /report.txt, adds /new.txt.
	"editdrive": func(ts *testscript.TestScript, neg bool, args []string) {
		onPartition(ts, ts.MkAbs(args[0]), func(dev, mnt string) {
			ts.Check(os.WriteFile(filepath.Join(mnt, "etc/hosts"), []byte("127.0.0.1 fs2\n"), 0o644))
			ts.Check(os.Remove(filepath.Join(mnt, "report.txt")))
			ts.Check(os.WriteFile(filepath.Join(mnt, "new.txt"), []byte("new\n"), 0o644))
		}, false)
	},
	// linkdrive FILE NAME TARGET: replaces NAME on partition 1 with a
	// symlink to TARGET.
	"linkdrive": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 3 {
			ts.Fatalf("usage: linkdrive FILE NAME TARGET")
		}
		onPartition(ts, ts.MkAbs(args[0]), func(dev, mnt string) {
			ts.Check(os.RemoveAll(filepath.Join(mnt, args[1])))
			ts.Check(os.Symlink(args[2], filepath.Join(mnt, args[1])))
		}, false)
	},
	// attached FILE...: fails unless a loop device is backed by a FILE.
	// Negated, it waits up to 10 s for them to go: a loop device detached
	// while the kernel or a probe still holds it open is cleared when the
	// last holder closes it, a moment later.
	"attached": func(ts *testscript.TestScript, neg bool, args []string) {
		for _, a := range args {
			deadline := time.Now().Add(10 * time.Second)
			for {
				out, _ := exec.Command("losetup", "--associated", ts.MkAbs(a)).Output()
				got := strings.TrimSpace(string(out)) != ""
				if got == !neg {
					break
				}
				if !neg || time.Now().After(deadline) {
					ts.Fatalf("loop devices of %s: %q", a, out)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	},
}

func sh(ts *testscript.TestScript, argv ...string) string {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		ts.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// onPartition mounts partition 1 of the image p (making an ext4 there
// first when mkfs) for f, and detaches everything after.
func onPartition(ts *testscript.TestScript, p string, f func(dev, mnt string), mkfs bool) {
	dev := sh(ts, "losetup", "--find", "--show", p)
	defer func() {
		exec.Command("partx", "--delete", dev).Run()
		exec.Command("losetup", "--detach", dev).Run()
	}()
	sh(ts, "partx", "--add", dev)
	if mkfs {
		sh(ts, "mkfs.ext4", "-q", dev+"p1")
	}
	mnt, err := os.MkdirTemp("", "drover-script-")
	ts.Check(err)
	defer os.Remove(mnt)
	sh(ts, "mount", dev+"p1", mnt)
	defer exec.Command("umount", mnt).Run()
	f(dev, mnt)
}
