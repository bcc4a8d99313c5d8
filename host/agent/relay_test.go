package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/sshtest"
)

// dialRelay connects to the agent's relay socket, as sshd does for a
// direct-streamlocal channel.
func dialRelay(t *testing.T, c *Client) *net.UnixConn {
	t.Helper()
	if c.Hello.Relay == "" {
		t.Fatal("the agent has no relay socket")
	}
	conn, err := net.Dial("unix", c.Hello.Relay)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn.(*net.UnixConn)
}

// TestRelay: a file's bytes cross raw, read from one file open in the
// agent and written into another; a range past the file's end ends
// early, data that compresses is refused for the calls to carry, a file
// not open is an error, and the socket's folder goes with the agent.
func TestRelay(t *testing.T) {
	c := serve(t)
	ctx := context.Background()
	s := Scope{Name: "fs1", Root: t.TempDir()}
	data := make([]byte, 3*relayBuffer+100)
	rand.Read(data)
	if err := c.WriteFile(ctx, s, "/src", bytes.NewReader(data), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := c.OpenFile(ctx, s, "/src", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, tmp, err := c.CreateTemp(ctx, s, "/dst")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()

	r, err := src.ReadRelay(dialRelay(t, c), 100, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	conn := dialRelay(t, c)
	w, err := dst.WriteRelay(conn, 0, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(struct{ io.Writer }{w}, r); err != nil || n != int64(len(data)-100) {
		t.Fatalf("relayed %d bytes (%v), want the %d to the file's end", n, err, len(data)-100)
	}
	if err := w.Finish(conn.CloseWrite); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(s.Root, tmp)); !bytes.Equal(got, data[100:]) {
		t.Error("the file written through the relay is not what was sent")
	}

	if err := c.WriteFile(ctx, s, "/zeros", bytes.NewReader(make([]byte, 2*relayBuffer)), 0o644); err != nil {
		t.Fatal(err)
	}
	zeros, err := c.OpenFile(ctx, s, "/zeros", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer zeros.Close()
	if _, err := zeros.ReadRelay(dialRelay(t, c), 0, 2*relayBuffer); !errors.Is(err, ErrNoRelay) || !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("relaying data that compresses: %v, want ErrNoRelay", err)
	}

	gone := &File{c: c, id: 1 << 40}
	if _, err := gone.ReadRelay(dialRelay(t, c), 0, 10); err == nil || errors.Is(err, ErrNoRelay) || errors.Is(err, ErrLost) {
		t.Errorf("relaying a file not open: %v, want the agent's error", err)
	}

	socket := c.Hello.Relay
	c.Close()
	// Serve removes the folder before it returns; the client's Close
	// does not wait for that.
	sshtest.WaitFor(t, "the relay socket's folder to go", func() bool {
		_, err := os.Stat(filepath.Dir(socket))
		return errors.Is(err, os.ErrNotExist)
	})
}

// TestRelayCutOff: a write whose connection is cut off midway ends in
// the agent, with what came written, and the relay's reader of a send
// cut off fails rather than end as if the file did.
func TestRelayCutOff(t *testing.T) {
	c := serve(t)
	ctx := context.Background()
	s := Scope{Name: "fs1", Root: t.TempDir()}
	dst, tmp, err := c.CreateTemp(ctx, s, "/dst")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	conn := dialRelay(t, c)
	w, err := dst.WriteRelay(conn, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte{1}, 1000)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if err := w.Finish(conn.CloseWrite); err == nil {
		t.Error("a relay cut off finished")
	}
	// The agent's write ends: the file can be closed and removed.
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(s.Root, tmp)); err != nil {
		t.Fatal(err)
	}

	// A send whose frames stop before the end frame.
	var frames bytes.Buffer
	frames.Write([]byte{0, 0, 0, 4, 'a', 'b'})
	r := &relayReader{c: &frames}
	if _, err := io.ReadAll(r); !errors.Is(err, ErrLost) {
		t.Errorf("a send cut off midway: %v, want ErrLost", err)
	}
}

// TestRelayWriteFails: an agent that cannot write what it is sent (a
// full disk; here a file open for reading) stops, and the writer fails
// with the agent's own error, not as a connection that ended.
func TestRelayWriteFails(t *testing.T) {
	c := serve(t)
	ctx := context.Background()
	s := Scope{Name: "fs1", Root: t.TempDir()}
	if err := c.WriteFile(ctx, s, "/ro", bytes.NewReader([]byte("x")), 0o644); err != nil {
		t.Fatal(err)
	}
	ro, err := c.OpenFile(ctx, s, "/ro", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	conn := dialRelay(t, c)
	w, err := ro.WriteRelay(conn, 0, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, relayBuffer)
	for range 64 {
		if _, err = w.Write(chunk); err != nil {
			break
		}
	}
	if err == nil {
		err = w.Finish(conn.CloseWrite)
	}
	var remote *RemoteError
	if !errors.As(err, &remote) || errors.Is(err, ErrLost) || !strings.Contains(err.Error(), "bad file descriptor") {
		t.Errorf("writing into a file the agent cannot write: %v, want the agent's error", err)
	}
	if ferr := w.Finish(conn.CloseWrite); ferr == nil {
		t.Error("a relay whose write failed finished")
	}
}

// TestRelaySwept: an agent starting removes the socket folders of agents
// that ended without removing theirs (killed), and no other.
func TestRelaySwept(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	// As a killed agent leaves it: the socket, no one listening.
	stale := deadSocketFolder(t, os.TempDir())
	starting, err := os.MkdirTemp("", relayDirs)
	if err != nil {
		t.Fatal(err)
	}
	// Named as a relay folder, with a dead socket, but not this user's
	// own folder: a symlink to one, and (as root) one of another user.
	elsewhere := deadSocketFolder(t, t.TempDir())
	link := filepath.Join(os.TempDir(), relayDirs+"link")
	if err := os.Symlink(elsewhere, link); err != nil {
		t.Fatal(err)
	}
	kept := []string{starting, elsewhere, link}
	if os.Getuid() == 0 {
		theirs := deadSocketFolder(t, os.TempDir())
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, theirs)
	}
	live := serve(t)
	serve(t)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the folder of an agent gone is left: %v", err)
	}
	for _, dir := range append(kept, filepath.Dir(live.Hello.Relay)) {
		if _, err := os.Lstat(dir); err != nil {
			t.Errorf("a folder not to sweep was removed: %v", err)
		}
	}
}

// deadSocketFolder makes a relay folder in parent whose socket no one
// listens on.
func deadSocketFolder(t *testing.T, parent string) string {
	dir, err := os.MkdirTemp(parent, relayDirs)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "relay"))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	return dir
}
