package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	xssh "golang.org/x/crypto/ssh"
)

// TestReplicateOverSSH runs `drover replicate` with its source and target
// on two real sshd: the agent watches the source on its machine, and a
// change there reaches the replica without another apply.
func TestReplicateOverSSH(t *testing.T) {
	t.Parallel()
	servers := startServers(t)
	bin := buildDrover(t)
	dir := t.TempDir()
	var config strings.Builder
	for _, name := range []string{"fs1", "fs2"} {
		s := servers[name]
		fmt.Fprintf(&config, "host %q {\n  address = %q\n  identity_file = %q\n  host_key = %q\n  root = %q\n}\n\n",
			name, s.Addr, s.Identity, strings.TrimSpace(string(xssh.MarshalAuthorizedKey(s.HostKey))), filepath.Join(dir, name))
	}
	config.WriteString(`resource "replication_set" "repset" {
  source {
    host = host.fs1
    path = "/srv/repset"
  }
  target {
    host = host.fs2
    path = "/replica"
  }
  delete_orphans = true
}
`)
	src := filepath.Join(dir, "fs1/srv/repset")
	dst := filepath.Join(dir, "fs2/replica/srv/repset")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(config.String()), 0o644)
	os.WriteFile(filepath.Join(src, "first"), []byte("first"), 0o644)
	if out, err := droverCmd(bin, dir, "apply", "--auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}

	cmd := droverCmd(bin, dir, "replicate", "replication_set.repset")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// On a failure, the process group: its plugin processes too.
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	os.MkdirAll(filepath.Join(src, "new"), 0o755)
	os.WriteFile(filepath.Join(src, "new/second"), []byte("second"), 0o644)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(dst, "new/second")); err == nil && string(b) == "second" {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("replicate ended: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the change never reached the replica; output:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("replicate after SIGTERM: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("replicate did not stop after SIGTERM:\n%s", out.String())
	}
}
