package host

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Host is one machine. Paths are absolute paths as that machine sees them
// (for a rooted local host, relative to its root).
type Host interface {
	// Name is the host block's label.
	Name() string
	// Run executes argv[0] with arguments argv[1:] and waits for it. A
	// non-zero exit is reported in RunResult, not as an error; err is for
	// failing to start or to wait.
	Run(ctx context.Context, argv []string, opts RunOptions) (RunResult, error)
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// Open opens a file for reading.
	Open(ctx context.Context, path string) (io.ReadCloser, error)
	// OpenFile opens a file or block device for random access with the
	// flags of os.OpenFile (O_RDONLY, O_RDWR, O_CREATE, O_EXCL, ...), perm
	// being the mode of a file it creates. Final symlinks are followed
	// (/dev/disk/by-id names), within the root on a rooted host, unless
	// flag has O_NOFOLLOW.
	OpenFile(ctx context.Context, path string, flag int, perm fs.FileMode) (File, error)
	// WriteFile replaces path atomically: readers see the old or the new
	// content, never a part (temp file in the same folder, fsync, rename,
	// fsync of the folder). Missing parent folders are created. The temp
	// file is created as CreateTemp creates it, and a symlink at path is
	// replaced, not followed. Temp files of path left by a killed writer
	// are removed (only one writer per path may run at a time).
	WriteFile(ctx context.Context, path string, r io.Reader, mode fs.FileMode) error
	// Lstat does not follow a final symlink.
	Lstat(ctx context.Context, path string) (fs.FileInfo, error)
	ReadDir(ctx context.Context, path string) ([]fs.DirEntry, error)
	// ReadDirStat lists the folder path with what Lstat (and Readlink, for
	// a symlink) tells of each entry, sorted by name: one call for a whole
	// folder, so that a remote transport answers it in one round trip.
	// Entries that vanish while it reads are left out; entries it cannot
	// read are named in an EntryErrors returned with the others.
	ReadDirStat(ctx context.Context, path string) ([]EntryStat, error)
	MkdirAll(ctx context.Context, path string, mode fs.FileMode) error
	Chmod(ctx context.Context, path string, mode fs.FileMode) error
	Rename(ctx context.Context, from, to string) error
	// Remove deletes a file or an empty folder; a missing path is not an error.
	Remove(ctx context.Context, path string) error

	// Symlink makes newname a symbolic link holding target as written;
	// target is never resolved, on a rooted host neither.
	Symlink(ctx context.Context, target, newname string) error
	Readlink(ctx context.Context, path string) (string, error)
	// Link makes newname a hard link to the file oldname.
	Link(ctx context.Context, oldname, newname string) error
	// Lchown sets the owner and group of path, of a symlink itself.
	Lchown(ctx context.Context, path string, uid, gid int) error
	// Chtimes sets the access and modification times of path, following a
	// final symlink.
	Chtimes(ctx context.Context, path string, atime, mtime time.Time) error
	// CreateTemp creates a new file at a TempPath of path, for writing,
	// and returns it with that path; Rename then makes it path. It never
	// opens what is already there (a symlink planted at the name above
	// all). Unlike WriteFile nothing is synced: callers that replace many
	// files call Sync once when done.
	CreateTemp(ctx context.Context, path string) (File, string, error)
	// Sync makes every write to the file system holding path durable.
	Sync(ctx context.Context, path string) error
	// Reflink creates the new file dst as a copy-on-write clone of the
	// regular file src, sharing its blocks: instant whatever the size, and
	// later writes to either leave the other as it was. src is only read;
	// dst is created exclusively (never an existing file, nor through a
	// symlink) with src's permissions, and made durable. Where the file
	// system (or the transport) cannot share blocks between the two, it
	// fails with errors.ErrUnsupported and leaves no dst behind.
	Reflink(ctx context.Context, src, dst string) error

	// Sub returns the host confined to the existing folder path: its paths
	// are relative to that folder, and neither `..` nor a symlink, even one
	// swapped in later, leads out of it. Closing it leaves h open.
	Sub(ctx context.Context, path string) (Host, error)
	// Machine names the machine the host reaches: two hosts with the same
	// Machine see one file system, whatever their roots.
	Machine() string
	// RealPath is path as the machine itself names it, symlinks resolved
	// (outside the host's root too), for telling whether two folders
	// overlap.
	RealPath(ctx context.Context, path string) (string, error)
	// Watch reports changes below the folder path, in folders created later
	// too, until ctx ends; then the channel is closed. Symlinks are not
	// followed.
	Watch(ctx context.Context, path string) (<-chan WatchEvent, error)
	// Tripwire starts noting changes to the folder path (its own metadata
	// and its entries), and to each folder listed since through the
	// tripwire: a walk that lists every folder through it learns from
	// Tripped whether the tree is still as it found it. Where the transport
	// or the file system cannot see every change made through the file
	// system (a network file system), it fails with errors.ErrUnsupported.
	Tripwire(ctx context.Context, path string) (Tripwire, error)

	Close() error
}

// EntryStat is one entry of a folder as ReadDirStat reads it, laid out
// small: a walk of a large tree keeps one per entry.
type EntryStat struct {
	Name string
	// Link is a symlink's target as written.
	Link string
	Size int64
	// MTime is the modification time in Unix nanoseconds.
	MTime int64
	// Dev, Ino, Blocks, UID, GID and Nlink are those of Stat, valid when
	// HasStat: the transport knows owners and inodes.
	Dev, Ino uint64
	Blocks   int64
	UID, GID uint32
	Nlink    uint32
	// Mode holds the type and permission bits, as fs.FileInfo.Mode.
	Mode    fs.FileMode
	HasStat bool
}

// SetStat records st in e.
func (e *EntryStat) SetStat(st Stat) {
	e.Dev, e.Ino, e.Blocks = st.Dev, st.Ino, st.Blocks
	e.UID, e.GID, e.Nlink = uint32(st.UID), uint32(st.GID), uint32(min(st.Nlink, math.MaxUint32))
	e.HasStat = true
}

// EntryErrors names the entries a ReadDirStat listed but could not read;
// it comes with the entries it could.
type EntryErrors []EntryError

// EntryError is an entry that could not be read, and why.
type EntryError struct {
	Name string
	Err  error
}

func (ee EntryErrors) Error() string {
	msg := ee[0].Err.Error()
	if len(ee) > 1 {
		msg += fmt.Sprintf(" (and %d more entries)", len(ee)-1)
	}
	return msg
}

// Tripwire is what Host.Tripwire returns.
type Tripwire interface {
	// ReadDirStat is Host.ReadDirStat of the tripwire's host, watching the
	// folder from before it is listed.
	ReadDirStat(ctx context.Context, path string) ([]EntryStat, error)
	// Tripped says whether, since each watched folder was watched, any of
	// its entries may have been written, created, removed, renamed or
	// given other metadata, up to the moment Tripped is called; or the
	// tripwire lost track (an event queue overflow, a folder it could not
	// watch). It stays tripped.
	Tripped() bool
	Close() error
}

// WatchEvent is one change Watch saw.
type WatchEvent struct {
	// Path is the host path of what was created, written, removed,
	// renamed or changed in its metadata.
	Path string
	// Overflow says events were lost: everything below the watched folder
	// may have changed.
	Overflow bool
	// Err ends the watch: the channel is closed after it.
	Err error
}

// TempPath is a new name beside path for a temporary file (or link) to be
// renamed over path: hidden, ending in a fixed suffix so that IsTempName
// knows leftovers, and random in the middle so that nobody can plant
// anything at it beforehand. Each call gives another name; whoever uses
// one must create it exclusively (O_EXCL), never open what is there.
func TempPath(path string) string {
	dir, base := splitPath(path)
	return dir + tempPrefix(base) + randomHex() + tempSuffix
}

// IsTempName says whether a base name is one TempPath gives.
func IsTempName(base string) bool {
	return len(base) > len(tempSuffix)+1 && base[0] == '.' && base[len(base)-len(tempSuffix):] == tempSuffix
}

// isTempOf says whether name is a name TempPath gives for base.
func isTempOf(name, base string) bool {
	prefix := tempPrefix(base)
	return len(name) == len(prefix)+2*tempRandom+len(tempSuffix) &&
		strings.HasPrefix(name, prefix) && strings.HasSuffix(name, tempSuffix)
}

const (
	tempSuffix = ".drover-tmp"
	// tempRandom is how many random bytes a temp name carries, in hex.
	tempRandom = 8
	// maxName is the longest file name most file systems take.
	maxName = 255
)

// tempPrefix is what the temp names of base start with. A base too long
// to carry the marks is cut and told apart from others cut alike by a hash.
func tempPrefix(base string) string {
	room := maxName - 2 - 2*tempRandom - len(tempSuffix)
	if len(base) <= room {
		return "." + base + "."
	}
	sum := sha256.Sum256([]byte(base))
	return "." + base[:room-17] + "-" + hex.EncodeToString(sum[:8]) + "."
}

func randomHex() string {
	var b [tempRandom]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func splitPath(path string) (dir, base string) {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			return path[:i+1], path[i+1:]
		}
	}
	return "", path
}

// RunOptions shapes one command run.
type RunOptions struct {
	Dir    string
	Env    []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// RunResult is how a command ended.
type RunResult struct {
	ExitCode int
}

// Type is the cty type of a host value as providers receive it (the value of
// the expression `host.NAME`).
var Type = cty.Object(map[string]cty.Type{
	"name":      cty.String,
	"transport": cty.String,
	"address":   cty.String,
	"root":      cty.String,
	"user":      cty.String,
	"port":      cty.Number,
	"netns":     cty.String,
	// Paths and a public key only: a host value is in plans and state,
	// so it never holds a secret.
	"identity_file": cty.String,
	"host_key":      cty.String,
	"known_hosts":   cty.String,
	"agent":         cty.Bool,
})
