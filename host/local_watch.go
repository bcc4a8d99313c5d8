package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fsnotify/fsnotify"
)

func (l *local) Watch(ctx context.Context, path string) (<-chan WatchEvent, error) {
	real, err := l.realName(path)
	if err != nil {
		return nil, l.pathErr("watch", path, err)
	}
	if fi, err := os.Lstat(real); err != nil {
		return nil, l.pathErr("watch", path, err)
	} else if !fi.IsDir() {
		return nil, l.pathErr("watch", path, errors.New("not a folder"))
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, l.pathErr("watch", path, err)
	}
	w := &localWatch{l: l, fw: fw, root: real, dirs: map[string]bool{}}
	if err := w.addTree(real); err != nil {
		fw.Close()
		return nil, l.pathErr("watch", path, err)
	}
	out := make(chan WatchEvent, 1024)
	go w.run(ctx, out)
	return out, nil
}

// localWatch keeps one inotify watch per folder of the tree: the kernel
// has no recursive watch. Folders created (or moved in) later are added as
// their Create event arrives; folders removed or moved away are dropped,
// so that a folder moved within the tree is watched under its new name.
type localWatch struct {
	l    *local
	fw   *fsnotify.Watcher
	root string
	dirs map[string]bool
}

// addTree watches dir and every folder below it, never through a symlink.
// Folders that vanish meanwhile are skipped.
func (w *localWatch) addTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if err := w.fw.Add(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipDir
			}
			return fmt.Errorf("watching %s: %w (raise fs.inotify.max_user_watches for large trees)", p, err)
		}
		w.dirs[p] = true
		return nil
	})
}

func (w *localWatch) drop(dir string) {
	prefix := dir + string(filepath.Separator)
	for p := range w.dirs {
		if p == dir || strings.HasPrefix(p, prefix) {
			delete(w.dirs, p)
			w.fw.Remove(p)
		}
	}
}

func (w *localWatch) hostPath(real string) string {
	if w.l.root == "" {
		return real
	}
	rel, err := filepath.Rel(w.l.root, real)
	if err != nil || rel == "." {
		return "/"
	}
	return "/" + filepath.ToSlash(rel)
}

func (w *localWatch) run(ctx context.Context, out chan<- WatchEvent) {
	defer close(out)
	defer w.fw.Close()
	send := func(ev WatchEvent) bool {
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				w.drop(ev.Name)
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
					if err := w.addTree(ev.Name); err != nil {
						send(WatchEvent{Err: w.l.pathErr("watch", w.hostPath(ev.Name), err)})
						return
					}
				}
			}
			if !send(WatchEvent{Path: w.hostPath(ev.Name)}) {
				return
			}
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Folders created meanwhile were missed: watch them too.
				if err := w.addTree(w.root); err != nil {
					send(WatchEvent{Err: w.l.pathErr("watch", w.hostPath(w.root), err)})
					return
				}
				if !send(WatchEvent{Overflow: true}) {
					return
				}
				continue
			}
			send(WatchEvent{Err: fmt.Errorf("host %q: watch: %w", w.l.name, err)})
			return
		}
	}
}
