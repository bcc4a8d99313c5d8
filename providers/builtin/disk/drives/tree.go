package drives

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"path"

	"github.com/drover-dr/drover/host"
)

// Change is one difference between a source tree and its backup.
type Change struct {
	// Path is relative to the compared roots, "/" separated, with a
	// trailing "/" for folders.
	Path string
	// Kind is "≠" (differs), "+" (only in the source: new since the
	// backup) or "-" (only in the backup: deleted since).
	Kind string
}

// CompareTrees walks the file systems source and backup below sub and
// lists what differs. Each is a host confined to its file system
// (host.Host.Sub), so that every path, symlinks on the way included,
// resolves inside it. Files of equal size and modification time count as
// equal; files of equal size but another time are compared byte by byte.
func CompareTrees(ctx context.Context, source, backup host.Host, sub string) ([]Change, error) {
	var out []Change
	sub = path.Clean("/" + sub)
	sfi, serr := source.Lstat(ctx, sub)
	bfi, berr := backup.Lstat(ctx, sub)
	switch {
	case serr != nil && !errors.Is(serr, fs.ErrNotExist):
		return nil, serr
	case berr != nil && !errors.Is(berr, fs.ErrNotExist):
		return nil, berr
	case serr != nil && berr != nil:
		return nil, nil
	case serr != nil:
		return []Change{{Path: name(sub, bfi), Kind: "-"}}, nil
	case berr != nil:
		return []Change{{Path: name(sub, sfi), Kind: "+"}}, nil
	}
	err := compare(ctx, source, backup, sub, sfi, bfi, &out)
	return out, err
}

func name(p string, fi fs.FileInfo) string {
	if fi.IsDir() && p != "/" {
		return p + "/"
	}
	return p
}

func compare(ctx context.Context, source, backup host.Host, rel string, sfi, bfi fs.FileInfo, out *[]Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if sfi.Mode().Type() != bfi.Mode().Type() {
		*out = append(*out, Change{Path: name(rel, sfi), Kind: "≠"})
		return nil
	}
	if !sfi.IsDir() {
		same, err := sameFile(ctx, source, backup, rel, sfi, bfi)
		if err != nil {
			return err
		}
		if !same {
			*out = append(*out, Change{Path: rel, Kind: "≠"})
		}
		return nil
	}
	se, err := source.ReadDir(ctx, rel)
	if err != nil {
		return err
	}
	be, err := backup.ReadDir(ctx, rel)
	if err != nil {
		return err
	}
	// Both lists are sorted by name: merge them. Entries are looked at
	// through the hosts, which resolve them inside their file systems.
	i, j := 0, 0
	for i < len(se) || j < len(be) {
		switch {
		case j == len(be) || i < len(se) && se[i].Name() < be[j].Name():
			fi, err := source.Lstat(ctx, path.Join(rel, se[i].Name()))
			if err != nil {
				return err
			}
			*out = append(*out, Change{Path: name(path.Join(rel, se[i].Name()), fi), Kind: "+"})
			i++
		case i == len(se) || se[i].Name() > be[j].Name():
			fi, err := backup.Lstat(ctx, path.Join(rel, be[j].Name()))
			if err != nil {
				return err
			}
			*out = append(*out, Change{Path: name(path.Join(rel, be[j].Name()), fi), Kind: "-"})
			j++
		default:
			p := path.Join(rel, se[i].Name())
			s, err := source.Lstat(ctx, p)
			if err != nil {
				return err
			}
			b, err := backup.Lstat(ctx, p)
			if err != nil {
				return err
			}
			if err := compare(ctx, source, backup, p, s, b, out); err != nil {
				return err
			}
			i++
			j++
		}
	}
	return nil
}

func sameFile(ctx context.Context, source, backup host.Host, p string, afi, bfi fs.FileInfo) (bool, error) {
	if afi.Size() != bfi.Size() || afi.Mode() != bfi.Mode() {
		return false, nil
	}
	if afi.ModTime().Equal(bfi.ModTime()) || !afi.Mode().IsRegular() {
		return afi.ModTime().Equal(bfi.ModTime()) || !afi.Mode().IsRegular(), nil
	}
	fa, err := source.Open(ctx, p)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := backup.Open(ctx, p)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		na, erra := io.ReadFull(fa, ba)
		nb, errb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if erra != nil || errb != nil {
			return errors.Is(erra, io.ErrUnexpectedEOF) || errors.Is(erra, io.EOF), nil
		}
	}
}
