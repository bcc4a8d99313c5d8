package mirror

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
)

// RollBackInterrupted rolls back the updates in place of large files that
// a crash (a SIGKILL, a power cut) left in the target folder: each such
// replica file holds parts of two versions, its undo journal beside it.
// It returns the files rolled back, by path below the folder. A mirror of
// such a file rolls it back before anything else; this is for when no
// mirror can come, as when the source is gone, which is when the replica
// must be whole.
func RollBackInterrupted(ctx context.Context, target Endpoint) ([]string, error) {
	fi, err := target.Host.Lstat(ctx, target.Path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.IsDir() {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", target, err)
	}
	dst, err := target.Host.Sub(ctx, target.Path)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", target, err)
	}
	defer dst.Close()
	var t *Tree
	if host.CanCall(ctx, target.Host) == nil {
		t, err = scan(ctx, target, ScanRequest{Starts: []string{""}, Temps: true, Parallel: 8})
	} else {
		t, err = walk(ctx, dst, []string{""}, walkOptions{parallel: 8, temps: true, list: dst})
	}
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", target, err)
	}
	var journals []string
	t.each(func(dir string, e *Entry) {
		if e.Kind() == KindSidecar && strings.HasSuffix(e.Name, journalSuffix) {
			journals = append(journals, join(dir, e.Name))
		}
	})
	var rolled []string
	var errs []error
	for _, j := range journals {
		file := hostPath(sidecarOf(j))
		side := sidecars(file)
		rec, err := blocks.Target{Host: dst, Path: file, Manifest: side[0], Journal: side[1]}.Recover(ctx)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("rolling back %s%s: %w", target.Path, file, err))
		case rec != nil && !rec.Finished:
			rolled = append(rolled, target.Path+file)
		}
	}
	return rolled, errors.Join(errs...)
}

// interruptedUpdates returns the files of the walked target tree whose
// update in place was interrupted: their undo journal is open. Such a
// file holds parts of two versions and the time of the last write that
// reached it, which may well be the source's own (times over SFTP have
// whole seconds, and a crash soon after the source changed writes in
// that second): its size and time say nothing of its content. A journal
// that cannot be read counts as open: the update that follows rolls the
// file back first, or says why it cannot.
func interruptedUpdates(ctx context.Context, target host.Host, dst *Tree) (map[string]bool, error) {
	if target == nil {
		return nil, nil
	}
	var out map[string]bool
	var err error
	dst.each(func(dir string, e *Entry) {
		if err != nil || e.Kind() != KindSidecar || !strings.HasSuffix(e.Name, journalSuffix) {
			return
		}
		file := sidecarOf(join(dir, e.Name))
		if f := dst.entry(file); f == nil || f.Kind() != KindFile {
			return
		}
		side := sidecars(hostPath(file))
		open, jerr := blocks.Target{Host: target, Path: hostPath(file), Manifest: side[0], Journal: side[1]}.Interrupted(ctx)
		if err = ctx.Err(); err != nil {
			return
		}
		if open || jerr != nil {
			if out == nil {
				out = map[string]bool{}
			}
			out[file] = true
		}
	})
	return out, err
}
