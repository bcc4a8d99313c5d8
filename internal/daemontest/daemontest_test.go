package daemontest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary be the server TestStart starts: with
// DAEMONTEST_LISTEN=PORT it listens there after a moment, says so, and
// serves until it is interrupted.
func TestMain(m *testing.M) {
	if port := os.Getenv("DAEMONTEST_LISTEN"); port != "" {
		time.Sleep(200 * time.Millisecond)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("up")
		for {
			c, err := l.Accept()
			if err != nil {
				os.Exit(1)
			}
			c.Close()
		}
	}
	os.Exit(m.Run())
}

// TestStart: a server is ready once its probe says so; one that exits or
// never gets ready fails the start, saying what it printed, and is not
// left running.
func TestStart(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		port, err := FreeTCPPort()
		if err != nil {
			t.Fatal(err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		// A listener a moment after the start: the probe waits for it.
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "DAEMONTEST_LISTEN="+strconv.Itoa(port))
		p, err := Start(t.Context(), cmd, 10*time.Second, func(ctx context.Context) error { return Dial(ctx, addr) })
		if err != nil {
			t.Fatal(err)
		}
		p.Stop()
		select {
		case <-p.Exited():
		default:
			t.Error("the process runs on after Stop")
		}
		if got := p.Output(); got != "up\n" {
			t.Errorf("output %q", got)
		}
	})
	t.Run("exits", func(t *testing.T) {
		cmd := exec.Command("sh", "-c", "echo no config; exit 3")
		_, err := Start(t.Context(), cmd, 10*time.Second, func(context.Context) error { return errors.New("not yet") })
		if err == nil || !strings.Contains(err.Error(), "sh exited before it was ready (not yet):\nno config") {
			t.Errorf("Start = %v", err)
		}
	})
	t.Run("never ready", func(t *testing.T) {
		cmd := exec.Command("sleep", "60")
		_, err := Start(t.Context(), cmd, 100*time.Millisecond, func(context.Context) error { return errors.New("not yet") })
		if err == nil || !strings.Contains(err.Error(), "sleep was not ready within 100ms (last: not yet)") {
			t.Errorf("Start = %v", err)
		}
		if cmd.ProcessState == nil {
			t.Error("the process runs on after the failed start")
		}
	})
}

// TestOnFreePort: a start that fails is tried on another port, three
// times at most, and the errors of all are kept.
func TestOnFreePort(t *testing.T) {
	var ports []int
	_, err := OnFreePort(FreeTCPPort, func(port int) (int, error) {
		ports = append(ports, port)
		return 0, errors.New("taken " + strconv.Itoa(len(ports)))
	})
	if len(ports) != 3 || err == nil || !strings.Contains(err.Error(), "taken 1\ntaken 2\ntaken 3") {
		t.Errorf("tried %v, error %v", ports, err)
	}
	got, err := OnFreePort(FreeTCPPort, func(port int) (int, error) { return port, nil })
	if err != nil || got == 0 {
		t.Errorf("OnFreePort = %d, %v", got, err)
	}
}
