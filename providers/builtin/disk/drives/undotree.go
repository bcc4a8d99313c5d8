package drives

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/drover-dr/drover/host"
)

// A tree undo keeps what a --path restore overwrote in a file system, so
// that it can be put back. It is a folder: files/ holds each entry the
// restore overwrites as it was (owners, modes and times kept), and
// undo.json, written last, names them and the entries the restore
// creates. A folder without undo.json belongs to a restore that never
// started writing.
const treeUndoHeaderName = "undo.json"

// TreeUndoHeader says what a tree undo puts back.
type TreeUndoHeader struct {
	// Source is the drive and Partition the partition whose file system
	// the restore wrote.
	Source    string `json:"source"`
	Partition int    `json:"partition"`
	// Overwritten are the entries kept under files/, Created the entries
	// the restore adds, which putting back removes; paths inside the file
	// system.
	Overwritten []string `json:"overwritten"`
	Created     []string `json:"created"`
	// What the restore wrote, for people.
	Restore string `json:"restore"`
}

// TreeUndoChanges splits the changes of CompareTrees(source, backup) into
// what a restore from the backup overwrites ("≠") and creates ("-"); what
// only the source has ("+") a restore leaves alone.
func TreeUndoChanges(changes []Change) (overwritten, created []string) {
	for _, c := range changes {
		p := strings.TrimSuffix(c.Path, "/")
		switch c.Kind {
		case "≠":
			overwritten = append(overwritten, p)
		case "-":
			created = append(created, p)
		}
	}
	return overwritten, created
}

// SaveTree makes the tree undo dir on h, which must not exist yet, keeping
// hdr.Overwritten as fsys, a host confined to the file system, holds them.
func SaveTree(ctx context.Context, h host.Host, dir string, hdr TreeUndoHeader, fsys host.Host) error {
	if _, err := h.Lstat(ctx, dir); err == nil {
		return fmt.Errorf("%s exists already; name a new undo file", dir)
	}
	if err := h.MkdirAll(ctx, path.Join(dir, "files"), 0o700); err != nil {
		return err
	}
	files, err := h.Sub(ctx, path.Join(dir, "files"))
	if err != nil {
		return err
	}
	defer files.Close()
	for _, p := range hdr.Overwritten {
		if err := files.MkdirAll(ctx, path.Dir(p), 0o700); err != nil {
			return err
		}
		if err := CopyTree(ctx, fsys, p, files, p); err != nil {
			return fmt.Errorf("keeping %s: %w", p, err)
		}
	}
	if err := files.Sync(ctx, "/"); err != nil {
		return err
	}
	head, _ := json.MarshalIndent(hdr, "", "  ")
	if err := h.WriteFile(ctx, path.Join(dir, treeUndoHeaderName), bytes.NewReader(append(head, '\n')), 0o600); err != nil {
		return err
	}
	return h.Sync(ctx, dir)
}

// IsTreeUndo says whether p is a tree undo (a folder) rather than the undo
// file of a partition restore.
func IsTreeUndo(ctx context.Context, h host.Host, p string) bool {
	fi, err := h.Lstat(ctx, p)
	return err == nil && fi.IsDir()
}

// ReadTreeUndo reads the header of the tree undo dir.
func ReadTreeUndo(ctx context.Context, h host.Host, dir string) (TreeUndoHeader, error) {
	var hdr TreeUndoHeader
	b, err := h.ReadFile(ctx, path.Join(dir, treeUndoHeaderName))
	if err != nil || json.Unmarshal(b, &hdr) != nil || hdr.Source == "" {
		return hdr, fmt.Errorf("%s is not an undo folder of drover drive restore --path (or its restore never started writing)", dir)
	}
	return hdr, nil
}

// PutBackTree removes from fsys, a host confined to the file system, what
// the restore created and puts back what it overwrote, from the tree undo
// dir, then syncs fsys.
func PutBackTree(ctx context.Context, h host.Host, dir string, fsys host.Host) (TreeUndoHeader, error) {
	hdr, err := ReadTreeUndo(ctx, h, dir)
	if err != nil {
		return hdr, err
	}
	files, err := h.Sub(ctx, path.Join(dir, "files"))
	if err != nil {
		return hdr, err
	}
	defer files.Close()
	// Deepest first, so that a created folder is empty when it goes.
	created := append([]string(nil), hdr.Created...)
	sort.Sort(sort.Reverse(sort.StringSlice(created)))
	for _, p := range created {
		if err := removeTree(ctx, fsys, p); err != nil {
			return hdr, fmt.Errorf("removing %s, which the restore created: %w", p, err)
		}
	}
	for _, p := range hdr.Overwritten {
		old, err := files.Lstat(ctx, p)
		if err != nil {
			return hdr, fmt.Errorf("%s lacks %s: %w", dir, p, err)
		}
		// The restore may have put a folder where a file was.
		if cur, err := fsys.Lstat(ctx, p); err == nil && cur.IsDir() && !old.IsDir() {
			if err := removeTree(ctx, fsys, p); err != nil {
				return hdr, err
			}
		}
		if err := CopyTree(ctx, files, p, fsys, p); err != nil {
			return hdr, fmt.Errorf("putting back %s: %w", p, err)
		}
	}
	return hdr, fsys.Sync(ctx, "/")
}

// removeTree removes p and everything below it, never following a symlink.
func removeTree(ctx context.Context, h host.Host, p string) error {
	fi, err := h.Lstat(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		entries, err := h.ReadDir(ctx, p)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := removeTree(ctx, h, path.Join(p, e.Name())); err != nil {
				return err
			}
		}
	}
	return h.Remove(ctx, p)
}
