package nfstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/daemontest"
)

// Server is a running ganesha.nfsd.
type Server struct {
	// Conf is the path of its ganesha.conf, the file Drover is told to
	// manage (ganesha_conf).
	Conf string
	// PidFile is where it writes its pid (ganesha_pid_file).
	PidFile string
	// LogFile is its log.
	LogFile string
	// Port is the TCP port it serves NFSv4 on, at 127.0.0.1.
	Port int
	// Dir holds its configuration and run files.
	Dir string

	proc *daemontest.Process
}

// Start starts ganesha.nfsd (the path exe) with its files in dir, made if
// missing, and waits until it accepts connections.
func Start(ctx context.Context, exe, dir string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return daemontest.OnFreePort(daemontest.FreeTCPPort, func(port int) (*Server, error) {
		s := &Server{Conf: filepath.Join(dir, "ganesha.conf"), PidFile: filepath.Join(dir, "ganesha.pid"),
			LogFile: filepath.Join(dir, "ganesha.log"), Port: port, Dir: dir}
		return s, s.start(ctx, exe)
	})
}

// New starts ganesha.nfsd for t in a temporary folder and stops it when t
// ends.
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
	recovery := filepath.Join(s.Dir, "recovery")
	if err := os.MkdirAll(recovery, 0o755); err != nil {
		return err
	}
	// NFSv4 only needs no rpcbind; graceless, it serves at once instead
	// of waiting out a grace period for clients of a former life.
	conf := fmt.Sprintf("NFS_CORE_PARAM {\n  Protocols = 4;\n  NFS_Port = %d;\n  Bind_addr = 127.0.0.1;\n  Enable_NLM = false;\n  Enable_RQUOTA = false;\n}\n"+
		"NFSV4 {\n  Graceless = true;\n  RecoveryBackend = fs;\n  RecoveryRoot = \"%s\";\n}\nNFS_KRB5 {\n  Active_krb5 = false;\n}\n", s.Port, recovery)
	if err := os.WriteFile(s.Conf, []byte(conf), 0o644); err != nil {
		return err
	}
	os.Remove(s.PidFile)
	cmd := exec.Command(exe, "-F", "-L", s.LogFile, "-f", s.Conf, "-p", s.PidFile, "-N", "NIV_EVENT")
	cmd.Dir = s.Dir
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	// Ready once it accepts a connection and has written its pid file
	// (which Drover signals).
	ready := func(ctx context.Context) error {
		if err := daemontest.Dial(ctx, addr); err != nil {
			return err
		}
		b, err := os.ReadFile(s.PidFile)
		if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(cmd.Process.Pid) {
			return fmt.Errorf("listens at %s, but its pid file is not written yet", addr)
		}
		return nil
	}
	proc, err := daemontest.Start(ctx, cmd, 30*time.Second, ready)
	if err != nil {
		log, _ := os.ReadFile(s.LogFile)
		return fmt.Errorf("%w\n%s", err, log)
	}
	s.proc = proc
	return nil
}

// Stop ends ganesha.nfsd by its pid and waits for it (it starts no other
// processes).
func (s *Server) Stop() { s.proc.Stop() }

// URL is the nfs:// URL libnfs's tools take for path below the server's
// pseudo root, e.g. URL("/data/f.txt").
func (s *Server) URL(path string) string {
	return fmt.Sprintf("nfs://127.0.0.1%s?nfsport=%d&version=4", path, s.Port)
}

// List lists the folder pseudo (an export's pseudo path, or one below
// it) with nfs-ls (the path nfsls): the names in it.
func (s *Server) List(ctx context.Context, nfsls, pseudo string) ([]string, error) {
	out, err := exec.CommandContext(ctx, nfsls, s.URL(pseudo)).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("nfs-ls %s: %v: %s", s.URL(pseudo), err, out)
	}
	var names []string
	for l := range strings.Lines(string(out)) {
		if f := strings.Fields(l); len(f) > 0 {
			names = append(names, f[len(f)-1])
		}
	}
	return names, nil
}
