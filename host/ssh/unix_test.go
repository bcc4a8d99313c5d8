package ssh

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/sshtest"
)

// TestDialUnix reaches a unix socket of the machine through sshd, as the
// vm provider reaches libvirtd: what is written crosses both ways, and a
// socket that is not there is an error naming it.
func TestDialUnix(t *testing.T) {
	s := sshtest.Start(t)
	h := connect(t, options(s, "fs1"))
	sock := filepath.Join(t.TempDir(), "echo.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()

	ctx := context.Background()
	c, err := h.DialUnix(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello" {
		t.Errorf("echoed %q, %v", got, err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("close: %v", err)
	}

	missing := filepath.Join(t.TempDir(), "none.sock")
	if _, err := h.DialUnix(ctx, missing); err == nil {
		t.Errorf("dialled the missing socket %s", missing)
	} else if want := "connecting to the socket " + missing; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}
