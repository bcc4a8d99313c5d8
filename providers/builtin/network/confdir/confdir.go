package confdir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/drover-dr/drover/host"
)

// Syntax is what differs between the servers' configuration languages.
type Syntax struct {
	// Include is the line that includes file.
	Include func(file string) string
	// Includes says whether line includes file; nil compares the line,
	// trimmed, with Include(file).
	Includes func(line, file string) bool
	// Missing is the error for a main file that is not there: what to
	// install, or which setting names the file.
	Missing func(main string) error
	// Holds says what Drover's files hold, in the comment above the
	// include line of the main file.
	Holds string
}

// Files are Drover's files beside one server's main configuration file.
type Files struct {
	Host host.Host
	// Main is the path of the server's main configuration file.
	Main   string
	Syntax Syntax
}

// Dir is the folder of Drover's files.
func (f Files) Dir() string { return path.Join(path.Dir(f.Main), "drover.d") }

// Index is the file that includes every part.
func (f Files) Index() string { return path.Join(f.Dir(), "index.conf") }

// Path is the file that holds part.
func (f Files) Path(part string) string { return path.Join(f.Dir(), part+".conf") }

// locks serialise the changes to one server's files within this process:
// the index is rewritten from the folder's listing, so two parts changed
// at once must not both write it, and a reload proves one change at a
// time. Keyed by machine and main path.
var locks sync.Map

// Lock takes the lock of the server's files and returns its unlock.
func (f Files) Lock() func() {
	v, _ := locks.LoadOrStore(f.Host.Machine()+"\x00"+f.Main, new(sync.Mutex))
	mu := v.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// ReadMain reads the main file; a missing one is Syntax.Missing.
func (f Files) ReadMain(ctx context.Context) ([]byte, error) {
	b, err := f.Host.ReadFile(ctx, f.Main)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, f.Syntax.Missing(f.Main)
	}
	return b, err
}

// Parts lists the parts in the folder, in name order; none when there is
// no folder yet.
func (f Files) Parts(ctx context.Context) ([]string, error) {
	entries, err := f.Host.ReadDir(ctx, f.Dir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var parts []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasSuffix(n, ".conf") && n != "index.conf" && !host.IsTempName(n) {
			parts = append(parts, strings.TrimSuffix(n, ".conf"))
		}
	}
	slices.Sort(parts)
	return parts, nil
}

// WriteIndex rewrites the index from the parts in the folder.
func (f Files) WriteIndex(ctx context.Context) error {
	if err := f.Host.MkdirAll(ctx, f.Dir(), 0o755); err != nil {
		return err
	}
	parts, err := f.Parts(ctx)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("# Written by Drover: one include per file of this folder.\n")
	for _, p := range parts {
		b.WriteString(f.Syntax.Include(f.Path(p)) + "\n")
	}
	return f.Host.WriteFile(ctx, f.Index(), &b, 0o644)
}

// Include writes the index and adds the line that includes it to the
// main file, once; the index is written first, so that the line never
// names a missing file.
func (f Files) Include(ctx context.Context) error {
	main, err := f.ReadMain(ctx)
	if err != nil {
		return err
	}
	if err := f.WriteIndex(ctx); err != nil {
		return err
	}
	includes := f.Syntax.Includes
	if includes == nil {
		includes = func(line, file string) bool { return strings.TrimSpace(line) == f.Syntax.Include(file) }
	}
	for l := range strings.Lines(string(main)) {
		if includes(l, f.Index()) {
			return nil
		}
	}
	// A main file that is a symlink is written where it points, so that
	// the link stays what it was.
	target, err := f.Host.RealPath(ctx, f.Main)
	if err != nil {
		return err
	}
	fi, err := f.Host.Lstat(ctx, target)
	if err != nil {
		return err
	}
	if len(main) > 0 && main[len(main)-1] != '\n' {
		main = append(main, '\n')
	}
	main = fmt.Appendf(main, "\n# %s: the files of %s (leave them to Drover).\n%s\n", f.Syntax.Holds, f.Dir(), f.Syntax.Include(f.Index()))
	return f.Host.WriteFile(ctx, target, bytes.NewReader(main), fi.Mode().Perm())
}

// Restore puts part back as it was before a change (old, or no file
// where it did not exist) and rewrites the index to match.
func (f Files) Restore(ctx context.Context, part string, old []byte, existed bool) error {
	var err error
	if existed {
		err = f.Host.WriteFile(ctx, f.Path(part), bytes.NewReader(old), 0o644)
	} else {
		err = f.Host.Remove(ctx, f.Path(part))
	}
	if err != nil {
		return fmt.Errorf("putting %s back as it was: %w", f.Path(part), err)
	}
	if err := f.WriteIndex(ctx); err != nil {
		return fmt.Errorf("putting %s back as it was: %w", f.Index(), err)
	}
	return nil
}
