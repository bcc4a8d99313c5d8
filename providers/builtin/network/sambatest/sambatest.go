package sambatest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/daemontest"
)

// Server is a running smbd.
type Server struct {
	// Conf is the path of its smb.conf, the file Drover is told to manage
	// (smb_conf).
	Conf string
	// Port is the TCP port it serves SMB on, at 127.0.0.1.
	Port int
	// Dir holds its configuration and run files.
	Dir string

	proc *daemontest.Process
}

// NetBIOSName is the server's own NetBIOS name.
const NetBIOSName = "DROVERTEST"

// Start starts smbd (the path exe) with its files in dir, made if
// missing, and waits until it accepts connections.
func Start(ctx context.Context, exe, dir string) (*Server, error) {
	return daemontest.OnFreePort(daemontest.FreeTCPPort, func(port int) (*Server, error) {
		s := &Server{Conf: filepath.Join(dir, "smb.conf"), Port: port, Dir: dir}
		return s, s.start(ctx, exe)
	})
}

// New starts smbd for t in a temporary folder and stops it when t ends.
func New(t testing.TB, exe string) *Server {
	t.Helper()
	s, err := Start(t.Context(), exe, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(ctx context.Context, exe string) error {
	var conf strings.Builder
	fmt.Fprintf(&conf, "[global]\n  workgroup = DROVER\n  netbios name = %s\n  server role = standalone server\n", NetBIOSName)
	for _, d := range []string{"private dir", "lock directory", "pid directory", "state directory", "cache directory", "ncalrpc dir"} {
		p := filepath.Join(s.Dir, strings.ReplaceAll(d, " ", "-"))
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		fmt.Fprintf(&conf, "  %s = %s\n", d, p)
	}
	fmt.Fprintf(&conf, "  log file = %s\n  interfaces = 127.0.0.1\n  bind interfaces only = yes\n  smb ports = %d\n"+
		"  disable netbios = yes\n  map to guest = bad user\n  load printers = no\n  disable spoolss = yes\n",
		filepath.Join(s.Dir, "log.%m"), s.Port)
	if err := os.WriteFile(s.Conf, []byte(conf.String()), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(exe, "--foreground", "--no-process-group", "--debug-stdout", "-s", s.Conf)
	cmd.Dir = s.Dir
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	// Ready once it accepts a connection and answers its control
	// messages (so that smbcontrol finds its pid file).
	ready := func(ctx context.Context) error {
		if err := daemontest.Dial(ctx, addr); err != nil {
			return err
		}
		_, err := os.Stat(filepath.Join(s.Dir, "pid-directory", "smbd.pid"))
		return err
	}
	proc, err := daemontest.Start(ctx, cmd, 20*time.Second, ready)
	if err != nil {
		s.stopHelpers()
		return err
	}
	s.proc = proc
	return nil
}

// Stop ends smbd by its pid and waits for it, then ends the RPC helpers
// (samba-dcerpcd and its rpcd_* children) smbd started on demand: they
// run in sessions of their own, outlive smbd, and are known only by the
// configuration file their command lines name.
func (s *Server) Stop() {
	s.proc.Stop()
	s.stopHelpers()
}

// stopHelpers kills every process whose command line names s.Conf (smbd's
// connection children, which may still start a helper as they end, and
// the helpers) until none has been seen for 200 ms, within a deadline.
func (s *Server) stopHelpers() {
	deadline := time.Now().Add(10 * time.Second)
	quiet := 0
	for quiet < 10 && time.Now().Before(deadline) {
		pids := s.helperPIDs()
		if len(pids) == 0 {
			quiet++
		} else {
			quiet = 0
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) helperPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		// Arguments end in a NUL, the last one too: smbd names the file
		// as "-s FILE", its helpers as "--configfile=FILE".
		if err != nil || !strings.Contains(string(cmdline), "--configfile="+s.Conf+"\x00") && !strings.Contains(string(cmdline), "\x00-s\x00"+s.Conf+"\x00") {
			continue
		}
		if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && strings.Contains(string(st), ") Z ") {
			continue // a zombie: already dead, waiting for a reaper
		}
		pids = append(pids, pid)
	}
	return pids
}

// Share is one line of smbclient's share list.
type Share struct {
	Name, Type, Comment string
}

// List lists the server's shares with smbclient (the path smbclient),
// anonymously, calling the server by name (its NetBIOS name or an alias;
// "" calls it 127.0.0.1) and naming the client clientName.
func (s *Server) List(ctx context.Context, smbclient, name, clientName string) ([]Share, error) {
	target := "//127.0.0.1"
	if name != "" {
		target = "//" + name
	}
	args := []string{"-L", target, "-I", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-N", "-g"}
	if clientName != "" {
		args = append(args, "-n", clientName)
	}
	out, err := exec.CommandContext(ctx, smbclient, args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("smbclient %s: %v: %s", strings.Join(args, " "), err, out)
	}
	// -g prints one share a line: TYPE|NAME|COMMENT.
	var shares []Share
	for l := range strings.Lines(string(out)) {
		f := strings.SplitN(strings.TrimRight(l, "\n"), "|", 3)
		if len(f) == 3 && (f[0] == "Disk" || f[0] == "IPC" || f[0] == "Printer") {
			shares = append(shares, Share{Type: f[0], Name: f[1], Comment: f[2]})
		}
	}
	return shares, nil
}
