package nfstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
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

	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	out    bytes.Buffer
}

// Start starts ganesha.nfsd (the path exe) with its files in dir, made if
// missing, and waits until it accepts connections.
func Start(ctx context.Context, exe, dir string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var errs []error
	// A port found free may be taken before ganesha binds it: try again
	// on another.
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Conf: filepath.Join(dir, "ganesha.conf"), PidFile: filepath.Join(dir, "ganesha.pid"),
			LogFile: filepath.Join(dir, "ganesha.log"), Port: port, Dir: dir}
		if err := s.start(ctx, exe); err != nil {
			errs = append(errs, err)
			continue
		}
		return s, nil
	}
	return nil, errors.Join(errs...)
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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
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
	s.cmd = exec.Command(exe, "-F", "-L", s.LogFile, "-f", s.Conf, "-p", s.PidFile, "-N", "NIV_EVENT")
	s.cmd.Dir = s.Dir
	s.cmd.Stdout, s.cmd.Stderr = (*lockedWriter)(s), (*lockedWriter)(s)
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan struct{})
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return err
	}
	return nil
}

// waitReady polls until ganesha accepts a connection and has written its
// pid file (which Drover signals).
func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			var b []byte
			if b, err = os.ReadFile(s.PidFile); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(s.cmd.Process.Pid) {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("ganesha.nfsd exited before it listened at %s:\n%s", addr, s.Log())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ganesha.nfsd did not listen at %s within 30s (last: %v):\n%s", addr, err, s.Log())
		}
	}
}

// Stop ends ganesha.nfsd by its pid and waits for it (it starts no other
// processes).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// Log is what ganesha.nfsd printed and logged so far.
func (s *Server) Log() string {
	s.mu.Lock()
	out := s.out.String()
	s.mu.Unlock()
	b, _ := os.ReadFile(s.LogFile)
	return out + string(b)
}

type lockedWriter Server

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.Write(p)
}

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
