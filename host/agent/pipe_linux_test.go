package agent

import (
	"context"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestServeGrowsPipes serves the agent over real pipes, as sshd gives it
// its stdin and stdout, and checks that both hold a whole write of gRPC's
// buffer.
func TestServeGrowsPipes(t *testing.T) {
	agentIn, clientOut, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	clientIn, agentOut, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- Serve(context.Background(), agentIn, agentOut) }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := NewClient(ctx, clientIn, clientOut, clientIn)
	if err != nil {
		t.Fatal(err)
	}
	// The handshake answered: Serve set its pipes up before.
	for name, f := range map[string]*os.File{"stdin": agentIn, "stdout": agentOut} {
		rc, err := f.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var size int
		if cerr := rc.Control(func(fd uintptr) { size, err = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) }); cerr != nil || err != nil {
			t.Fatalf("the agent's %s: %v %v", name, cerr, err)
		}
		if size < pipeSize {
			t.Errorf("the agent's %s holds %d bytes, want %d", name, size, pipeSize)
		}
	}
	c.Close()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("Serve did not end with its connection")
	}
}
