package drives

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/hashicorp/go-multierror"
)

// Session attaches loop devices and mounts file systems, and undoes all of
// it on Close, in reverse order, whatever happened in between.
type Session struct {
	h    host.Host
	undo []step
	// checked says the host's paths are known to be the machine's.
	checked bool
}

type step struct {
	what string
	do   func(context.Context) error
}

// NewSession starts a session on h.
func NewSession(h host.Host) *Session { return &Session{h: h} }

// Close detaches and unmounts everything the session attached and mounted.
// It runs even when ctx is already cancelled, with a deadline of its own.
func (s *Session) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var errs error
	for i := len(s.undo) - 1; i >= 0; i-- {
		if err := s.undo[i].do(ctx); err != nil {
			errs = multierror.Append(errs, fmt.Errorf("%s: %w", s.undo[i].what, err))
		}
	}
	s.undo = nil
	return errs
}

// AttachRange attaches n bytes at off of the image or device p to a loop
// device, read-only unless writable, and returns the loop device.
func (s *Session) AttachRange(ctx context.Context, p string, off, n int64, writable bool) (string, error) {
	if err := s.machinePaths(ctx); err != nil {
		return "", err
	}
	argv := []string{"losetup", "--find", "--show", "--offset", strconv.FormatInt(off, 10), "--sizelimit", strconv.FormatInt(n, 10)}
	if !writable {
		argv = append(argv, "--read-only")
	}
	out, err := Run(ctx, s.h, append(argv, p)...)
	if err != nil {
		return "", err
	}
	dev := strings.TrimSpace(out)
	s.undo = append(s.undo, step{"detaching " + dev, func(ctx context.Context) error {
		_, err := Run(ctx, s.h, "losetup", "--detach", dev)
		return err
	}})
	return dev, nil
}

// ErrNoFileSystem is wrapped by Mount's error for a device holding no file
// system (swap, boot code, raw data).
var ErrNoFileSystem = errors.New("no file system")

// Mount mounts the file system on dev at a new folder below /run/drover
// and returns the folder. Read-only mounts replay no journal, so a copy
// taken from a live file system mounts as it is.
func (s *Session) Mount(ctx context.Context, dev string, writable bool) (string, error) {
	fstype, err := Run(ctx, s.h, "blkid", "--probe", "--output", "value", "--match-tag", "TYPE", dev)
	fstype = strings.TrimSpace(fstype)
	if err != nil || fstype == "" {
		return "", fmt.Errorf("%w found on %s", ErrNoFileSystem, dev)
	}
	opts := "rw"
	if !writable {
		opts = "ro"
		switch fstype {
		case "ext3", "ext4":
			opts += ",noload"
		case "xfs":
			opts += ",norecovery"
		}
	}
	if fstype == "xfs" {
		// The copy and the source share a UUID.
		opts += ",nouuid"
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	dir := "/run/drover/mnt/" + hex.EncodeToString(rnd[:])
	if err := s.h.MkdirAll(ctx, dir, 0o700); err != nil {
		return "", err
	}
	if _, err := Run(ctx, s.h, "mount", "-t", fstype, "-o", opts, dev, dir); err != nil {
		s.h.Remove(ctx, dir)
		return "", err
	}
	s.undo = append(s.undo, step{"unmounting " + dir, func(ctx context.Context) error {
		if _, err := Run(ctx, s.h, "umount", dir); err != nil {
			return err
		}
		return s.h.Remove(ctx, dir)
	}})
	return dir, nil
}

// machinePaths refuses a host rooted at a folder: losetup and mount take
// the paths they are given as the machine's, so an image of the host would
// be attached from the machine's file at the same path, and a mount folder
// made through the host would not be where mount puts the file system.
func (s *Session) machinePaths(ctx context.Context) error {
	if s.checked {
		return nil
	}
	real, err := s.h.RealPath(ctx, "/")
	if err != nil {
		return err
	}
	if real != "/" {
		return fmt.Errorf("not supported on hosts rooted at a folder: host %q is rooted at %s, and losetup and mount would take its paths as the machine's; use a host without root for drive diff and drive restore --path", s.h.Name(), real)
	}
	s.checked = true
	return nil
}

// Run runs argv on h and returns its standard output; a failure carries
// its standard error.
func Run(ctx context.Context, h host.Host, argv ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	res, err := h.Run(ctx, argv, host.RunOptions{Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		return "", err
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = fmt.Sprintf("exit status %d", res.ExitCode)
		}
		return stdout.String(), &RunError{Argv: argv, Msg: msg}
	}
	return stdout.String(), nil
}

// RunError is a command that ran and failed.
type RunError struct {
	Argv []string
	Msg  string
}

func (e *RunError) Error() string { return strings.Join(e.Argv, " ") + ": " + e.Msg }

// IsRunError says whether err is a command that ran and failed.
func IsRunError(err error) bool {
	var re *RunError
	return errors.As(err, &re)
}
