package host

import (
	"context"
	"io"
	"io/fs"

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
	// (/dev/disk/by-id names), within the root on a rooted host.
	OpenFile(ctx context.Context, path string, flag int, perm fs.FileMode) (File, error)
	// WriteFile replaces path atomically: readers see the old or the new
	// content, never a part (temp file in the same folder, fsync, rename,
	// fsync of the folder). Missing parent folders are created.
	WriteFile(ctx context.Context, path string, r io.Reader, mode fs.FileMode) error
	// Lstat does not follow a final symlink.
	Lstat(ctx context.Context, path string) (fs.FileInfo, error)
	ReadDir(ctx context.Context, path string) ([]fs.DirEntry, error)
	MkdirAll(ctx context.Context, path string, mode fs.FileMode) error
	Chmod(ctx context.Context, path string, mode fs.FileMode) error
	Rename(ctx context.Context, from, to string) error
	// Remove deletes a file or an empty folder; a missing path is not an error.
	Remove(ctx context.Context, path string) error
	Close() error
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
})
