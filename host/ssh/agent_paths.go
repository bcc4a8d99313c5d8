package ssh

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/agent"
)

// Ops the agent runs for the file operations its protocol has no call for
// (folder listings, real paths, Sub's check of its folder), so that a host
// the agent serves never needs SFTP. They run on the agent's host, rooted
// where this one is, as every other operation through the agent does;
// registered in every program that links this package, the agent included.
const (
	opRealPath = "ssh.realpath"
	opReadDir  = "ssh.readdir"
	opSub      = "ssh.sub"
)

type pathRequest struct{ Path string }

func init() {
	host.RegisterOp(opRealPath, func(ctx context.Context, h host.Host, req pathRequest) (string, error) {
		return h.RealPath(ctx, req.Path)
	})
	// Listed with each entry's lstat, as an SFTP server lists; an entry
	// that cannot be read is left out, as it leaves it out.
	host.RegisterOp(opReadDir, func(ctx context.Context, h host.Host, req pathRequest) ([]host.EntryStat, error) {
		entries, err := h.ReadDirStat(ctx, req.Path)
		if _, bad := errors.AsType[host.EntryErrors](err); bad {
			err = nil
		}
		return entries, err
	})
	// The folder is opened as a Sub host there, which proves it is one
	// inside the root, and answered with its real path: the root of the
	// Sub host here, for what goes through SFTP.
	host.RegisterOp(opSub, func(ctx context.Context, h host.Host, req pathRequest) (string, error) {
		sub, err := h.Sub(ctx, req.Path)
		if err != nil {
			return "", err
		}
		sub.Close()
		return h.RealPath(ctx, req.Path)
	})
}

// agentCall runs the op name with req on the machine through the agent, as
// withAgent runs an operation: errNoAgent says to use SFTP instead.
func agentCall[Req, Resp any](ctx context.Context, h *Host, name string, req Req) (Resp, error) {
	var resp Resp
	var in bytes.Buffer
	if err := gob.NewEncoder(&in).Encode(req); err != nil {
		return resp, fmt.Errorf("op %s: encoding: %w", name, err)
	}
	err := h.withAgent(ctx, true, func(a *agent.Client) error {
		out, err := a.Invoke(ctx, h.scope(), name, in.Bytes(), nil)
		if err != nil {
			return err
		}
		// A call repeated on a new connection decodes afresh.
		resp = *new(Resp)
		return gob.NewDecoder(bytes.NewReader(out)).Decode(&resp)
	})
	return resp, err
}

// RealPath through the agent resolves the path on the machine in one call.
func (h *Host) RealPath(ctx context.Context, p string) (string, error) {
	real, err := agentCall[pathRequest, string](ctx, h, opRealPath, pathRequest{p})
	if errors.Is(err, errNoAgent) {
		return h.sftpRealPath(ctx, p)
	}
	return real, h.agentErr("realpath", p, err)
}

// ReadDir through the agent lists the folder on the machine in one call.
func (h *Host) ReadDir(ctx context.Context, p string) ([]fs.DirEntry, error) {
	list, err := agentCall[pathRequest, []host.EntryStat](ctx, h, opReadDir, pathRequest{p})
	if errors.Is(err, errNoAgent) {
		return h.sftpReadDir(ctx, p)
	}
	if err != nil {
		return nil, h.agentErr("readdir", p, err)
	}
	entries := make([]fs.DirEntry, len(list))
	for i, e := range list {
		entries[i] = fs.FileInfoToDirEntry(entryInfo{e})
	}
	return entries, nil
}

// Sub through the agent checks the folder on the machine, where the agent
// then holds it open for the Sub host's operations.
func (h *Host) Sub(ctx context.Context, p string) (host.Host, error) {
	real, err := agentCall[pathRequest, string](ctx, h, opSub, pathRequest{p})
	if errors.Is(err, errNoAgent) {
		return h.sftpSub(ctx, p)
	}
	if err != nil {
		return nil, h.agentErr("sub", p, err)
	}
	return h.subHost(p, real), nil
}

// entryInfo is a listed entry as an fs.FileInfo.
type entryInfo struct{ e host.EntryStat }

func (i entryInfo) Name() string       { return i.e.Name }
func (i entryInfo) Size() int64        { return i.e.Size }
func (i entryInfo) Mode() fs.FileMode  { return i.e.Mode }
func (i entryInfo) ModTime() time.Time { return time.Unix(0, i.e.MTime) }
func (i entryInfo) IsDir() bool        { return i.e.Mode.IsDir() }
func (i entryInfo) Sys() any           { return nil }
