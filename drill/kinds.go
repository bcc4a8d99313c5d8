package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/disk/drives"
)

// The built-in kinds: what the drill package itself creates or that any
// step may, with the check a teardown's proof makes of each.
const (
	// File is a file or folder tree at the path ID (a clone, an overlay's
	// folders): removed without following symlinks or crossing into a
	// file system mounted below it; gone when the path is.
	File = "file"
	// Mount is a file system mounted at the machine path ID: gone when
	// /proc/self/mountinfo shows nothing there.
	Mount = "mount"
	// Loop is every loop device backed by the machine path ID: gone when
	// `losetup --list` shows none.
	Loop = "loop"
	// Netns is the network namespace named ID (Inventory.Namespace makes
	// one with its interfaces): removed with every process in it; gone
	// when `ip netns list` does not list it.
	Netns = "netns"
	// UTS is the UTS namespace pinned (bind-mounted) at the machine path
	// ID (Inventory.UTSNamespace makes one): unmounted and its file
	// removed; gone when neither is there.
	UTS = "uts"
	// QEMU is the QEMU whose command line names the pidfile at the
	// machine path ID (-pidfile ID), found by its pid in /proc, not by
	// the pidfile, which a killed QEMU leaves behind and an exiting one
	// removes first: SIGKILLed; gone when no process names it.
	QEMU = "qemu"
	// Process is every process whose environment holds MarkerEnv=ID (its
	// children inherit it): gone when no process in /proc has it. A marker,
	// unlike a pid, is known before the process starts and is never reused.
	Process = "process"
)

// MarkerEnv is the environment variable that marks a drill's processes.
const MarkerEnv = "DROVER_DRILL_OBJECT"

// ProcessEnv is the environment entry a process recorded as o must start
// with.
func ProcessEnv(o Object) string { return MarkerEnv + "=" + o.ID }

var builtinKinds = map[string]Kind{
	File:    fileKind{},
	Mount:   mountKind{},
	Loop:    loopKind{},
	Netns:   netnsKind{},
	UTS:     utsKind{},
	QEMU:    qemuKind{},
	Process: processKind{},
}

// goneWithin bounds how long a removal waits for the kernel to let go of
// what it removed (a killed process, a lazily detached device).
const goneWithin = 10 * time.Second

type fileKind struct{}

func (fileKind) Remove(ctx context.Context, h host.Host, o Object) error {
	fi, err := h.Lstat(ctx, o.ID)
	if isGone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := notMounted(ctx, h, o.ID, fi); err != nil {
		return err
	}
	return removeTree(ctx, h, o.ID)
}

// notMounted fails when the folder p, whose FileInfo is fi, holds a file
// system other than its parent's.
func notMounted(ctx context.Context, h host.Host, p string, fi fs.FileInfo) error {
	if !fi.IsDir() {
		return nil
	}
	parent, err := h.Lstat(ctx, path.Dir(p))
	if err != nil {
		return err
	}
	st, ok1 := host.StatOf(fi)
	pst, ok2 := host.StatOf(parent)
	if ok1 && ok2 && st.Dev != pst.Dev {
		return fmt.Errorf("%s holds another file system; unmount it, then tear down again", p)
	}
	return nil
}

// removeTree removes p and, for a folder, everything below it; it never
// follows a symlink, and stops at a folder holding another file system (a
// mount teardown failed to unmount), whose files are not the drill's.
func removeTree(ctx context.Context, h host.Host, p string) error {
	fi, err := h.Lstat(ctx, p)
	if isGone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		entries, err := h.ReadDir(ctx, p)
		if err != nil && !isGone(err) {
			return err
		}
		for _, e := range entries {
			child := path.Join(p, e.Name())
			if e.IsDir() {
				cfi, err := h.Lstat(ctx, child)
				if isGone(err) {
					continue
				}
				if err == nil {
					err = notMounted(ctx, h, child, cfi)
				}
				if err != nil {
					return err
				}
			}
			if err := removeTree(ctx, h, child); err != nil {
				return err
			}
		}
	}
	return h.Remove(ctx, p)
}

func (fileKind) Left(ctx context.Context, h host.Host, o Object) (string, error) {
	fi, err := h.Lstat(ctx, o.ID)
	if isGone(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return "the " + host.ModeKind(fi.Mode()) + " is still there", nil
}

type mountKind struct{}

// mountsAt lists the file systems mounted at point, the topmost last.
func mountsAt(ctx context.Context, h host.Host, point string) ([]drives.Mount, error) {
	out, err := drives.Run(ctx, h, "cat", "/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var at []drives.Mount
	for _, m := range drives.ParseMountinfo(out) {
		if m.Point == point {
			at = append(at, m)
		}
	}
	return at, nil
}

func (mountKind) Remove(ctx context.Context, h host.Host, o Object) error {
	at, err := mountsAt(ctx, h, o.ID)
	if err != nil {
		return err
	}
	for range at {
		if _, err := drives.Run(ctx, h, "umount", o.ID); err != nil {
			return err
		}
	}
	return nil
}

func (mountKind) Left(ctx context.Context, h host.Host, o Object) (string, error) {
	at, err := mountsAt(ctx, h, o.ID)
	if err != nil || len(at) == 0 {
		return "", err
	}
	return fmt.Sprintf("still mounted (%s from %s)", at[len(at)-1].FSType, at[len(at)-1].Source), nil
}

type loopKind struct{}

// loopsOf lists the loop devices backed by file.
func loopsOf(ctx context.Context, h host.Host, file string) ([]string, error) {
	out, err := drives.Run(ctx, h, "losetup", "--list", "--json", "--output", "NAME,BACK-FILE")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(out) == "" {
		return nil, nil // no loop device at all
	}
	var list struct {
		Devices []struct {
			Name string `json:"name"`
			Back string `json:"back-file"`
		} `json:"loopdevices"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, fmt.Errorf("reading losetup --list: %w", err)
	}
	var devs []string
	for _, d := range list.Devices {
		if strings.TrimSuffix(d.Back, " (deleted)") == file {
			devs = append(devs, d.Name)
		}
	}
	return devs, nil
}

func (loopKind) Remove(ctx context.Context, h host.Host, o Object) error {
	devs, err := loopsOf(ctx, h, o.ID)
	if err != nil {
		return err
	}
	for _, dev := range devs {
		// Partitions first, or the device is only marked for detaching.
		drives.Run(ctx, h, "partx", "--delete", dev)
		if _, err := drives.Run(ctx, h, "losetup", "--detach", dev); err != nil {
			return err
		}
	}
	return waitGone(ctx, goneWithin, func() (string, error) { return loopKind{}.Left(ctx, h, o) })
}

func (loopKind) Left(ctx context.Context, h host.Host, o Object) (string, error) {
	devs, err := loopsOf(ctx, h, o.ID)
	if err != nil || len(devs) == 0 {
		return "", err
	}
	return "still attached as " + strings.Join(devs, ", "), nil
}

type netnsKind struct{}

func netnsListed(ctx context.Context, h host.Host, name string) (bool, error) {
	out, err := drives.Run(ctx, h, "ip", "netns", "list")
	if err != nil {
		return false, err
	}
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return true, nil
		}
	}
	return false, nil
}

// Remove kills what runs in the namespace before deleting it: a process
// left inside would keep the namespace, its interfaces and addresses
// alive, unnamed, where no ip netns list shows them.
func (netnsKind) Remove(ctx context.Context, h host.Host, o Object) error {
	listed, err := netnsListed(ctx, h, o.ID)
	if err != nil || !listed {
		return err
	}
	pids, err := netnsPids(ctx, h, o.ID)
	if err != nil {
		return err
	}
	if len(pids) > 0 {
		// kill fails for a process that exited since it was listed:
		// what counts is that none is left afterwards.
		drives.Run(ctx, h, append([]string{"kill", "-KILL"}, pids...)...)
		err := waitGone(ctx, goneWithin, func() (string, error) {
			pids, err := netnsPids(ctx, h, o.ID)
			if err != nil || len(pids) == 0 {
				return "", err
			}
			return "processes " + strings.Join(pids, ", ") + " in it", nil
		})
		if err != nil {
			return err
		}
	}
	_, err = drives.Run(ctx, h, "ip", "netns", "delete", o.ID)
	return err
}

func (netnsKind) Left(ctx context.Context, h host.Host, o Object) (string, error) {
	listed, err := netnsListed(ctx, h, o.ID)
	if err != nil || !listed {
		return "", err
	}
	left := "still listed by ip netns list"
	if pids, err := netnsPids(ctx, h, o.ID); err == nil && len(pids) > 0 {
		left += ", with processes " + strings.Join(pids, ", ") + " in it"
	}
	return left, nil
}

type utsKind struct{}

// Remove unmounts the pin, which frees the namespace once nothing runs in
// it, then removes the file it was mounted on.
func (utsKind) Remove(ctx context.Context, h host.Host, o Object) error {
	if err := (mountKind{}).Remove(ctx, h, o); err != nil {
		return err
	}
	if err := h.Remove(ctx, o.ID); err != nil && !isGone(err) {
		return err
	}
	return nil
}

func (utsKind) Left(ctx context.Context, h host.Host, o Object) (string, error) {
	if left, err := (mountKind{}).Left(ctx, h, o); left != "" || err != nil {
		return left, err
	}
	return fileKind{}.Left(ctx, h, o)
}

type qemuKind struct{}

// qemus lists the processes whose command line holds the argument o.ID.
func qemus(ctx context.Context, h host.Host, o Object) ([]string, error) {
	entries, err := h.ReadDir(ctx, "/proc")
	if err != nil {
		return nil, err
	}
	var pids []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil || !e.IsDir() {
			continue
		}
		cmdline, err := h.ReadFile(ctx, "/proc/"+e.Name()+"/cmdline")
		if err != nil {
			continue // gone meanwhile, or a kernel thread
		}
		if slices.Contains(strings.Split(string(cmdline), "\x00"), o.ID) {
			pids = append(pids, e.Name())
		}
	}
	return pids, nil
}

func (qemuKind) Remove(ctx context.Context, h host.Host, o Object) error {
	pids, err := qemus(ctx, h, o)
	if err != nil || len(pids) == 0 {
		return err
	}
	// kill fails for a process that exited since it was listed: what
	// counts is that none is left afterwards.
	drives.Run(ctx, h, append([]string{"kill", "-KILL"}, pids...)...)
	return waitGone(ctx, goneWithin, func() (string, error) { return qemuKind{}.Left(ctx, h, o) })
}

func (qemuKind) Left(ctx context.Context, h host.Host, o Object) (string, error) {
	pids, err := qemus(ctx, h, o)
	if err != nil || len(pids) == 0 {
		return "", err
	}
	return "QEMU still running as pid " + strings.Join(pids, ", "), nil
}

type processKind struct{}

// marked lists the processes whose environment holds o's marker. A
// process that exits while it is read is left out; a zombie has no
// environment left, and nothing left to remove either.
func marked(ctx context.Context, h host.Host, o Object) ([]int, error) {
	entries, err := h.ReadDir(ctx, "/proc")
	if err != nil {
		return nil, err
	}
	want := ProcessEnv(o)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		env, err := h.ReadFile(ctx, "/proc/"+e.Name()+"/environ")
		if err != nil {
			continue // gone meanwhile, or a kernel thread
		}
		if slices.Contains(strings.Split(string(env), "\x00"), want) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

func (processKind) Remove(ctx context.Context, h host.Host, o Object) error {
	pids, err := marked(ctx, h, o)
	if err != nil || len(pids) == 0 {
		return err
	}
	argv := []string{"kill", "-KILL"}
	for _, pid := range pids {
		argv = append(argv, strconv.Itoa(pid))
	}
	// kill fails for a process that exited since it was listed: what
	// counts is that none is left afterwards.
	drives.Run(ctx, h, argv...)
	return waitGone(ctx, goneWithin, func() (string, error) { return processKind{}.Left(ctx, h, o) })
}

func (processKind) Left(ctx context.Context, h host.Host, o Object) (string, error) {
	pids, err := marked(ctx, h, o)
	if err != nil || len(pids) == 0 {
		return "", err
	}
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	return "still running as pid " + strings.Join(s, ", "), nil
}
