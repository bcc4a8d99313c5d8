package agent

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/drover-dr/drover/host"
)

// A large file copied between two machines that run the agent (or one
// and the controller's) crosses the controller once as raw bytes: the
// controller opens a connection to each agent's relay socket (an SSH
// direct-streamlocal channel), asks one agent to stream the file's bytes
// and the other to write what it is sent into its temp file, and copies
// between the two with one buffer. The gRPC stream would add HTTP/2 framing, protobuf and
// several copies of every byte at both ends and in the controller.
//
// A connection carries one transfer (or op calls: relay_ops.go), named by
// its request (relayRequest): a file the agent of this connection holds
// open (FileOpen, FileCreateTemp), a range of it, and the direction. The socket lives in
// a folder only the agent's user can enter, removed when the agent ends.
//
// Sending, the agent answers a status (relayStatus), then the bytes in
// frames, each a length (4 bytes, big-endian) and that many bytes, and at
// the end a frame of length 0 and a second status: a read that failed
// midway is told from a file that ended early. Data that compresses is
// not sent raw: the status says so and the controller uses the calls,
// which carry it zstd-compressed. Receiving, the agent writes at most the
// range's length of what it is sent, until the controller ends its side,
// and answers a status with the count it wrote; a connection cut off
// (cancelled, the SSH connection lost) ends the write where it was, and
// the controller removes the temp file.

const relayMagic = "drvrly01"

// Relay directions, for relayRequest's Op.
const (
	relaySend    = 's'
	relayReceive = 'r'
	// relayInvoke: the connection carries op calls (relay_ops.go).
	relayInvoke = 'o'
)

type relayRequest struct {
	Magic  [8]byte
	Op     uint8
	ID     uint64
	Offset int64
	Length int64
}

// Status kinds.
const (
	relayOK = iota
	relayFailed
	// relayCompresses: the data is better sent by the calls.
	relayCompresses
	// relayProgress: an op's progress report follows (relay_ops.go).
	relayProgress
)

type relayStatus struct {
	Kind    uint8
	Code    uint32
	Written int64
	Len     uint32 // of the message that follows
}

// relayBuffer is what each end moves at once: one frame.
const relayBuffer = 1 << 20

// ErrNoRelay is wrapped by the error of a relay that cannot be used (no
// socket, data that compresses): the file's calls can still copy it. It
// wraps errors.ErrUnsupported.
var ErrNoRelay = fmt.Errorf("no raw relay: %w", errors.ErrUnsupported)

// listenRelay listens on the relay socket, in a new folder only this
// user can enter, serving each connection's transfer; stop ends them and
// removes the folder. Without a socket (no temp folder to write), path
// is "", and copies go through the calls.
func (s *server) listenRelay() (path string, stop func()) {
	sweepRelays()
	dir, err := os.MkdirTemp("", relayDirs)
	if err != nil {
		return "", func() {}
	}
	path = filepath.Join(dir, "relay")
	l, err := net.Listen("unix", path)
	if err != nil {
		os.RemoveAll(dir)
		return "", func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				stop := context.AfterFunc(ctx, func() { c.Close() })
				defer stop()
				s.serveRelay(c)
			})
		}
	})
	return path, func() {
		l.Close()
		cancel()
		wg.Wait()
		os.RemoveAll(dir)
	}
}

// relayDirs is the pattern of the relay sockets' folders in the temp
// folder.
const relayDirs = "drover-agent-"

// sweepRelays removes the folders of relay sockets no agent listens on
// any more: an agent killed (its machine's sshd crashed, a signal) leaves
// its folder behind. A folder whose socket is not there yet (an agent
// starting) is left alone, and so is one of another user (the temp
// folder is everyone's: an agent run as root must not remove what
// another user named like its folders) or a symlink.
func sweepRelays() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), relayDirs+"*"))
	for _, dir := range dirs {
		if fi, err := os.Lstat(dir); err != nil || !ownedHere(fi) {
			continue
		}
		c, err := net.Dial("unix", filepath.Join(dir, "relay"))
		if err == nil {
			c.Close()
			continue
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			os.RemoveAll(dir)
		}
	}
}

func (s *server) serveRelay(c net.Conn) {
	var req relayRequest
	if err := binary.Read(c, binary.BigEndian, &req); err != nil || string(req.Magic[:]) != relayMagic {
		return
	}
	if req.Op == relayInvoke {
		s.serveOps(c)
		return
	}
	f, err := s.file(req.ID)
	if err == nil && (req.Offset < 0 || req.Length < 0) {
		err = fmt.Errorf("relay of %d bytes at %d: out of range", req.Length, req.Offset)
	}
	if err != nil {
		writeStatus(c, relayFailed, 0, err)
		return
	}
	switch req.Op {
	case relaySend:
		sendRelay(c, io.NewSectionReader(f, req.Offset, req.Length))
	case relayReceive:
		n, err := receiveRelay(f, c, req.Offset, req.Length)
		writeStatus(c, relayOK, n, err)
	default:
		writeStatus(c, relayFailed, 0, fmt.Errorf("relay: no direction %q", req.Op))
	}
}

// writeBackEvery is how much a receive writes before it starts writing
// that to the disk: the sync at the end of the apply then finds most of a
// large file written already, where it would wait for all of it.
const writeBackEvery = 8 << 20

// receiveRelay writes into f from off what c sends, at most n bytes,
// starting the writeback of every writeBackEvery bytes as it goes.
func receiveRelay(f host.File, c io.Reader, off, n int64) (written int64, err error) {
	buf := make([]byte, relayBuffer)
	from := off
	for written < n && err == nil {
		var k int
		k, err = io.ReadFull(c, buf[:min(int64(len(buf)), n-written)])
		if k > 0 {
			if _, werr := f.WriteAt(buf[:k], off+written); werr != nil {
				return written, werr
			}
			written += int64(k)
		}
		if end := off + written; end-from >= writeBackEvery {
			// Best effort: the sync at the end reports what fails.
			f.WriteBack(from, end-from)
			from = end
		}
	}
	if end := off + written; end > from {
		f.WriteBack(from, end-from)
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return written, err
}

// sendRelay sends r in frames, unless its start compresses.
func sendRelay(c net.Conn, r io.Reader) {
	buf := make([]byte, 4+relayBuffer)
	n, err := io.ReadFull(r, buf[4:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		writeStatus(c, relayFailed, 0, err)
		return
	}
	if Compressible(buf[4 : 4+n]) {
		writeStatus(c, relayCompresses, 0, nil)
		return
	}
	if writeStatus(c, relayOK, 0, nil) != nil {
		return
	}
	var sent int64
	for n > 0 {
		binary.BigEndian.PutUint32(buf, uint32(n))
		if _, err := c.Write(buf[:4+n]); err != nil {
			return
		}
		sent += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		n, err = io.ReadFull(r, buf[4:])
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			break
		}
	}
	binary.BigEndian.PutUint32(buf, 0)
	if _, werr := c.Write(buf[:4]); werr != nil {
		return
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	writeStatus(c, relayOK, sent, err)
}

func writeStatus(w io.Writer, kind uint8, written int64, err error) error {
	st := relayStatus{Kind: kind, Written: written}
	var msg string
	if err != nil {
		st.Kind = relayFailed
		if s, ok := status.FromError(err); ok {
			st.Code, msg = uint32(s.Code()), s.Message()
		} else {
			st.Code, msg = uint32(codeOf(err)), err.Error()
		}
		st.Len = uint32(len(msg))
	}
	if err := binary.Write(w, binary.BigEndian, st); err != nil {
		return err
	}
	_, werr := io.WriteString(w, msg)
	return werr
}

// readStatus reads a status: the error it reports, or the count written.
func readStatus(r io.Reader) (int64, error) {
	var st relayStatus
	if err := binary.Read(r, binary.BigEndian, &st); err != nil {
		return 0, relayLost(err)
	}
	switch st.Kind {
	case relayOK:
		return st.Written, nil
	case relayCompresses:
		return 0, fmt.Errorf("%w: the data compresses", ErrNoRelay)
	}
	msg := make([]byte, min(st.Len, 64<<10))
	if _, err := io.ReadFull(r, msg); err != nil {
		return 0, relayLost(err)
	}
	return 0, fromCode(codes.Code(st.Code), string(msg))
}

// relayLost is the error of a relay connection that ended early: the
// agent or the connection to it is gone.
func relayLost(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = errors.New("the relay connection ended early")
	}
	return fmt.Errorf("%w: %w", ErrLost, err)
}

// Relays says whether the file's agent streams raw bytes, on the socket
// the caller is to connect to for ReadRelay and WriteRelay.
func (f *File) Relays() (socket string, ok bool) {
	return f.c.Hello.Relay, f.c.Hello.Relay != ""
}

// ReadRelay asks the agent, on c (a new connection to its relay socket),
// for the n bytes of the file at off, and returns them as they come:
// fewer if the file ends first. Data that compresses is refused with
// ErrNoRelay. c is the caller's to close.
func (f *File) ReadRelay(c io.ReadWriter, off, n int64) (io.Reader, error) {
	if err := writeRequest(c, relaySend, f.id, off, n); err != nil {
		return nil, err
	}
	if _, err := readStatus(c); err != nil {
		return nil, err
	}
	return &relayReader{c: c}, nil
}

func writeRequest(c io.Writer, op uint8, id uint64, off, n int64) error {
	req := relayRequest{Op: op, ID: id, Offset: off, Length: n}
	copy(req.Magic[:], relayMagic)
	if err := binary.Write(c, binary.BigEndian, req); err != nil {
		return relayLost(err)
	}
	return nil
}

// relayReader reads the frames of a send.
type relayReader struct {
	c    io.Reader
	left uint32
	err  error
}

func (r *relayReader) Read(p []byte) (int, error) {
	for r.left == 0 && r.err == nil {
		var h [4]byte
		if _, err := io.ReadFull(r.c, h[:]); err != nil {
			r.err = relayLost(err)
			break
		}
		r.left = binary.BigEndian.Uint32(h[:])
		if r.left == 0 {
			_, r.err = readStatus(r.c)
			if r.err == nil {
				r.err = io.EOF
			}
		}
	}
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.c.Read(p[:min(len(p), int(r.left))])
	r.left -= uint32(n)
	if err != nil {
		// Within a frame, even at its end: the end frame is still due.
		r.err = relayLost(err)
		if n == 0 {
			return 0, r.err
		}
	}
	return n, nil
}

// RelayWriter writes into a file open in an agent, through its relay.
type RelayWriter struct {
	c       io.ReadWriter
	written int64
	// failed is why the agent stopped writing, once it said so.
	failed error
}

// WriteRelay asks the agent, on c (a new connection to its relay socket),
// to write what it is sent into the file from off, at most n bytes.
func (f *File) WriteRelay(c io.ReadWriter, off, n int64) (*RelayWriter, error) {
	if err := writeRequest(c, relayReceive, f.id, off, n); err != nil {
		return nil, err
	}
	return &RelayWriter{c: c}, nil
}

func (w *RelayWriter) Write(p []byte) (int, error) {
	if w.failed != nil {
		return 0, w.failed
	}
	n, err := w.c.Write(p)
	w.written += int64(n)
	if err != nil {
		// An agent whose write failed (a full disk) stops reading, says
		// why and ends the connection: its words, not the end, are the
		// error.
		if _, serr := readStatus(w.c); serr != nil && !errors.Is(serr, ErrLost) {
			w.failed = serr
			return n, serr
		}
		return n, relayLost(err)
	}
	return n, nil
}

// Finish waits, once the caller has ended its side of the connection
// (closeWrite), for the agent to write all it was sent: nil only when it
// did.
func (w *RelayWriter) Finish(closeWrite func() error) error {
	if w.failed != nil {
		return w.failed
	}
	if err := closeWrite(); err != nil {
		return relayLost(err)
	}
	n, err := readStatus(w.c)
	if err == nil && n != w.written {
		err = fmt.Errorf("the agent wrote %d bytes of the %d it was sent", n, w.written)
	}
	return err
}
