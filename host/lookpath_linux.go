package host

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// programMask is every change to a folder's entries or to the folder
// itself that could change where PATH leads a name: a program added,
// removed, renamed or made (not) executable, the folder moved or removed.
const programMask = unix.IN_ATTRIB | unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

// programs remembers where PATH led a program name, so that a command run
// again and again (a runbook step per instance, a thousand a run) does not
// walk PATH every time: a stat per folder before the program's, failing,
// was a tenth of the core plugin's CPU. The answer stays what exec.LookPath
// would give: every folder of PATH up to the program's is watched (one
// inotify instance) before the lookup, the kernel queues an event in the
// call that makes a change, and a lookup first reads the queue without
// waiting: any change forgets every answer. A folder of PATH that does not
// exist cannot be watched; it is checked at each lookup instead. Relative
// folders, folders reached through a symlink and programs that are
// symlinks are never remembered: a change where they lead would not be
// seen. (A mount over a folder of PATH is not seen either.)
var programs = programCache{fd: -1}

type programCache struct {
	mu sync.Mutex
	// fd is the inotify instance, -1 before the first lookup and after a
	// change (closing it drops every watch); gen counts changes, so that
	// a lookup made across one is not remembered.
	fd      int
	gen     int
	watched map[string]bool
	found   map[programKey]programEntry
}

type programKey struct{ path, name string }

type programEntry struct {
	file string
	// missing are the folders of PATH before file's that did not exist.
	missing []string
}

// lookPath is exec.LookPath(name) for a name without a slash, with the
// process's PATH; ok is false when exec.LookPath failed, for exec to say
// why as it always does.
func lookPath(name string) (file string, ok bool) {
	pathEnv := os.Getenv("PATH")
	key := programKey{pathEnv, name}
	c := &programs
	c.mu.Lock()
	c.sync()
	if e, ok := c.found[key]; ok && !anyExists(e.missing) {
		c.mu.Unlock()
		return e.file, true
	}
	dirs := filepath.SplitList(pathEnv)
	c.watch(dirs)
	gen := c.gen
	c.mu.Unlock()

	file, err := exec.LookPath(name)
	if err != nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sync()
	if c.gen != gen {
		return file, true
	}
	var missing []string
	for _, d := range dirs {
		if d == "" || !filepath.IsAbs(d) {
			return file, true
		}
		watched, ok := c.watched[d]
		if filepath.Clean(d) == filepath.Dir(file) {
			if fi, err := os.Lstat(file); err == nil && fi.Mode()&os.ModeSymlink == 0 && watched {
				c.found[key] = programEntry{file: file, missing: missing}
			}
			return file, true
		}
		switch {
		case !ok:
			return file, true
		case !watched:
			missing = append(missing, d)
		}
	}
	return file, true
}

// sync forgets everything when a watched folder changed.
func (c *programCache) sync() {
	if c.fd < 0 {
		return
	}
	// Room for one event: a larger buffer on the stack grew the stack of
	// every goroutine running a command. An event too large for it fails
	// the read, which counts as a change all the same.
	var buf [unix.SizeofInotifyEvent + unix.NAME_MAX + 1]byte
	if _, err := unix.Read(c.fd, buf[:]); err == unix.EAGAIN {
		return
	}
	unix.Close(c.fd)
	c.fd = -1
	c.gen++
	c.watched, c.found = nil, nil
}

// watch adds the folders of PATH not watched yet: watched[d] is true for
// a folder watched, false for one that did not exist, absent for one that
// cannot be watched (relative, a symlink, or inotify refused).
func (c *programCache) watch(dirs []string) {
	if c.fd < 0 {
		fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
		if err != nil {
			return
		}
		c.fd = fd
		c.watched, c.found = map[string]bool{}, map[programKey]programEntry{}
	}
	for _, d := range dirs {
		if _, ok := c.watched[d]; ok || d == "" || !filepath.IsAbs(d) {
			continue
		}
		real, err := filepath.EvalSymlinks(d)
		switch {
		case os.IsNotExist(err):
			c.watched[d] = false
			continue
		case err != nil || real != filepath.Clean(d):
			continue
		}
		if _, err := unix.InotifyAddWatch(c.fd, d, programMask|unix.IN_DONT_FOLLOW); err == nil {
			c.watched[d] = true
		}
	}
}

func anyExists(paths []string) bool {
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			return true
		}
	}
	return false
}
