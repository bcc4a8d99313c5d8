package guestdisk

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/drover-dr/drover/internal/testenv"
)

// The guest agent that freezes is a real qemu-ga, run on this machine in
// a mount namespace of its own whose only file system it can freeze is
// an ext4 on a loop device: qemu-ga freezes every file system it sees
// mounted, and must not see this machine's. It takes the agent socket
// the test listens on (systemd's socket activation: LISTEN_FDS), as it
// would take the guest's virtio-serial port.

// agentFS is where the agent's ext4 is mounted in its namespace.
const agentFS = "/data"

// agentProcess is what the test binary does as the agent (TestMain): it
// makes its namespace, checks that the ext4 is all it may freeze, and
// becomes qemu-ga. It returns only on failure.
func agentProcess(loopDev, root string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "agent namespace:", err)
		return 1
	}
	runtime.LockOSThread()
	ga, err := exec.LookPath("qemu-ga")
	if err != nil {
		return fail(err)
	}
	libs, err := exec.Command("ldd", ga).Output()
	if err != nil {
		return fail(err)
	}
	if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
		return fail(err)
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fail(err)
	}
	if err := syscall.Mount("tmpfs", root, "tmpfs", 0, "size=64m"); err != nil {
		return fail(err)
	}
	// qemu-ga and its libraries, copied into the tmpfs: a bind mount of
	// this machine's /usr would be a file system it freezes.
	files := []string{ga}
	for _, line := range strings.Split(string(libs), "\n") {
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "/") {
				files = append(files, f)
			}
		}
	}
	for _, f := range files {
		if err := copyInto(root, f); err != nil {
			return fail(err)
		}
	}
	for _, d := range []string{"proc", "old", strings.TrimPrefix(agentFS, "/")} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return fail(err)
		}
	}
	if err := syscall.Mount(loopDev, filepath.Join(root, agentFS), "ext4", 0, ""); err != nil {
		return fail(err)
	}
	if err := syscall.PivotRoot(root, filepath.Join(root, "old")); err != nil {
		return fail(err)
	}
	if err := syscall.Chdir("/"); err != nil {
		return fail(err)
	}
	if err := syscall.Mount("proc", "/proc", "proc", 0, ""); err != nil {
		return fail(err)
	}
	if err := syscall.Unmount("/old", syscall.MNT_DETACH); err != nil {
		return fail(err)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fail(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(mi)), "\n") {
		if f := strings.Fields(line); len(f) < 5 || (f[4] != "/" && f[4] != "/proc" && f[4] != agentFS) {
			return fail(fmt.Errorf("the namespace still sees %q", line))
		}
	}
	os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
	os.Setenv("LISTEN_FDS", "1")
	err = syscall.Exec(ga, []string{"qemu-ga", "-m", "unix-listen", "-f", "/qga.pid", "-t", "/"}, os.Environ())
	return fail(err)
}

// copyInto copies the file f to the same path below root.
func copyInto(root, f string) error {
	in, err := os.Open(f)
	if err != nil {
		return err
	}
	defer in.Close()
	dst := filepath.Join(root, f)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// startAgent runs qemu-ga as agentProcess does, on the agent socket of the
// guest whose state folder is dir, freezing an ext4 of its own.
func startAgent(t *testing.T, dir string) {
	t.Helper()
	testenv.Root(t)
	testenv.Command(t, "qemu-ga", "qemu-guest-agent")
	testenv.Command(t, "mkfs.ext4", "e2fsprogs")
	losetup := testenv.Command(t, "losetup", "mount")
	img := filepath.Join(t.TempDir(), "agent-fs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 32<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	out, err := exec.Command(losetup, "--find", "--show", img).Output()
	if err != nil {
		t.Fatalf("losetup: %v", err)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command(losetup, "-d", dev).Run() })

	l, err := net.Listen("unix", filepath.Join(dir, AgentSocket))
	if err != nil {
		t.Fatal(err)
	}
	ul := l.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	sock, err := ul.File()
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	cmd := exec.Command(os.Args[0])
	root := filepath.Join(t.TempDir(), "root")
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "GUESTDISK_AGENT_LOOP="+dev, "GUESTDISK_AGENT_ROOT="+root)
	cmd.ExtraFiles = []*os.File{sock} // fd 3, as LISTEN_FDS has it
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log("qemu-ga:", sc.Text())
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
}

func TestHoldAgentFreezes(t *testing.T) {
	g := startGuestWith(t, false)
	os.Remove(filepath.Join(g.dir, AgentSocket))
	startAgent(t, g.dir)
	held, err := Hold(t.Context(), g.h, g.req)
	if err != nil {
		t.Fatal(err)
	}
	if err := Release(t.Context(), g.h, g.req); err != nil {
		t.Fatal(err)
	}
	if held.FreezeFailed != "" || held.Frozen != 1 {
		t.Errorf("Hold = %+v; want the agent's one file system frozen for the snapshot", held)
	}
	// Thawed: the agent says so.
	a, err := dialAgent(filepath.Join(g.dir, AgentSocket))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var status string
	if err := a.call("guest-fsfreeze-status", agentThawTimeout, &status); err != nil || status != "thawed" {
		t.Errorf("guest-fsfreeze-status = %q, %v; want thawed", status, err)
	}
}
