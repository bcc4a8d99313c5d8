package host

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// programMask is every change to a folder's entries or to the folder
// itself that could change where PATH leads a name: a program added,
// removed or renamed, the folder moved or removed. A program made (not)
// executable needs no event: the program remembered is checked at each
// lookup, and no other entry of its name comes before it. Nor could the
// watch afford IN_ATTRIB: for an event about its entries' attributes the
// kernel flags every entry of the folder it knows (found or not: a
// folder of PATH is searched for every name that any shell runs) as the
// watch is added, 5 ms for /usr/bin on a busy machine, and checks the
// folder's watches at each open or exec of a file in it since.
const programMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW

// programs remembers where PATH led a program name, so that a command run
// again and again (a runbook step per instance, a thousand a run) does not
// walk PATH every time: a stat per folder before the program's, failing,
// was a tenth of the core plugin's CPU. The answer stays what exec.LookPath
// would give: every folder of PATH is watched (one inotify instance)
// before the lookup, the kernel queues an event in the call that makes a
// change, and a lookup first reads the queue without waiting. An event
// naming an entry forgets the answers for that name; one about a folder
// itself (or a full queue) forgets every answer. A folder of PATH that
// does not exist cannot be watched; it is checked at each lookup instead.
// Only what no event could miss is remembered: no relative folder, no
// folder reached through a symlink, no program that is a symlink, and no
// folder before the program's holding an entry of its name (a link there
// could come to lead somewhere). The program itself is checked at each
// lookup (one access call): a chmod through another hard link of it,
// which may lie outside PATH, would go unseen. A mount over a folder of
// PATH is not seen.
var programs = programCache{fd: -1}

type programCache struct {
	mu sync.Mutex
	// fd is the inotify instance, -1 before the first lookup and after a
	// change to a folder itself (closing it drops every watch).
	fd      int
	watched map[string]bool
	found   map[programKey]programEntry
	events  []byte
}

type programKey struct{ path, name string }

type programEntry struct {
	file string
	// missing are the folders of PATH before file's that did not exist.
	missing []string
}

// holds says whether the answer e still stands, once the events are read.
func (e programEntry) holds() bool {
	return unix.Faccessat(unix.AT_FDCWD, e.file, unix.X_OK, unix.AT_EACCESS) == nil && !anyExists(e.missing)
}

// lookPath is exec.LookPath(name) for a name without a slash, with the
// process's PATH; ok is false when exec.LookPath failed, for exec to say
// why as it always does.
func lookPath(name string) (file string, ok bool) {
	pathEnv := os.Getenv("PATH")
	key := programKey{pathEnv, name}
	c := &programs
	// The lock is held across a lookup, so that the events read after it
	// are those of changes made since the folders were watched. Lookups
	// are rare: the first of a name, and after a change to it.
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sync(name)
	if e, ok := c.found[key]; ok {
		if e.holds() {
			return e.file, true
		}
		delete(c.found, key)
	}
	dirs := filepath.SplitList(pathEnv)
	c.watch(dirs)
	file, err := exec.LookPath(name)
	if err != nil {
		return "", false
	}
	if c.sync(name) {
		return file, true
	}
	var missing []string
	for _, d := range dirs {
		watched, ok := c.watched[d]
		switch {
		case !ok:
			return file, true
		case filepath.Clean(d) == filepath.Dir(file):
			var st syscall.Stat_t
			if watched && syscall.Lstat(file, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFREG {
				c.found[key] = programEntry{file: file, missing: missing}
			}
			return file, true
		case !watched:
			missing = append(missing, d)
		default:
			if _, err := os.Lstat(filepath.Join(d, name)); err == nil {
				return file, true
			}
		}
	}
	return file, true
}

// sync reads the events queued and forgets what they change; it says
// whether that was anything about name.
func (c *programCache) sync(name string) (changed bool) {
	if c.fd < 0 {
		return false
	}
	if c.events == nil {
		c.events = make([]byte, 64<<10)
	}
	for {
		n, err := unix.Read(c.fd, c.events)
		if err == unix.EAGAIN {
			return changed
		}
		if err != nil || n < unix.SizeofInotifyEvent {
			c.reset()
			return true
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&c.events[off]))
			off += unix.SizeofInotifyEvent
			entry := string(bytes.TrimRight(c.events[off:min(off+int(ev.Len), n)], "\x00"))
			off += int(ev.Len)
			if entry == "" || ev.Mask&(unix.IN_Q_OVERFLOW|unix.IN_IGNORED|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0 {
				c.reset()
				return true
			}
			for k := range c.found {
				if k.name == entry {
					delete(c.found, k)
				}
			}
			changed = changed || entry == name
		}
	}
}

// reset drops every watch and answer.
func (c *programCache) reset() {
	unix.Close(c.fd)
	c.fd = -1
	c.watched, c.found = nil, nil
}

// watch adds the folders of PATH not watched yet (one missing before may
// be there now): watched[d] is true for a folder watched, false for one
// that did not exist, absent for one that cannot be watched (relative, a
// symlink, or inotify refused).
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
		if c.watched[d] || d == "" || !filepath.IsAbs(d) {
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
		if _, err := unix.InotifyAddWatch(c.fd, d, programMask); err == nil {
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
