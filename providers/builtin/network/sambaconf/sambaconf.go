package sambaconf

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

// DefaultMain is where Debian and most distributions keep smb.conf.
const DefaultMain = "/etc/samba/smb.conf"

// Config is the Drover-managed part of one Samba server's configuration.
type Config struct {
	Host host.Host
	// Main is the path of the server's main configuration file.
	Main string
}

// Dir is the folder of Drover's files.
func (c Config) Dir() string { return path.Join(path.Dir(c.Main), "drover.d") }

func (c Config) index() string { return path.Join(c.Dir(), "index.conf") }

// Path is the file that holds part.
func (c Config) Path(part string) string { return path.Join(c.Dir(), part+".conf") }

// locks serialise the changes to one server's files within this process:
// the index is rewritten from the folder's listing, so two parts changed
// at once must not both write it. Keyed by machine and main path.
var locks sync.Map

func (c Config) lock() func() {
	v, _ := locks.LoadOrStore(c.Host.Machine()+"\x00"+c.Main, new(sync.Mutex))
	mu := v.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// Read returns the sections of part, and false when it has none (no file).
func (c Config) Read(ctx context.Context, part string) ([]Section, bool, error) {
	b, err := c.Host.ReadFile(ctx, c.Path(part))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	s, err := Parse(b)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", c.Path(part), err)
	}
	return s, true, nil
}

// Put makes part hold sections and has smbd load it. If the reload fails,
// part is put back as it was and the error says why.
func (c Config) Put(ctx context.Context, part string, sections []Section) error {
	defer c.lock()()
	if err := c.include(ctx); err != nil {
		return err
	}
	old, err := c.Host.ReadFile(ctx, c.Path(part))
	existed := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := c.Host.WriteFile(ctx, c.Path(part), bytes.NewReader(Format(sections)), 0o644); err != nil {
		return err
	}
	if err := c.writeIndex(ctx); err != nil {
		return errors.Join(err, c.restore(ctx, part, old, existed))
	}
	if err := c.Reload(ctx); err != nil {
		return errors.Join(err, c.restore(ctx, part, old, existed))
	}
	return nil
}

// Remove removes part and has smbd forget it. A part already gone is
// removed. If the reload fails, part is put back.
func (c Config) Remove(ctx context.Context, part string) error {
	defer c.lock()()
	old, err := c.Host.ReadFile(ctx, c.Path(part))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.Host.Remove(ctx, c.Path(part)); err != nil {
		return err
	}
	if err := c.writeIndex(ctx); err != nil {
		return errors.Join(err, c.restore(ctx, part, old, true))
	}
	if err := c.Reload(ctx); err != nil {
		return errors.Join(err, c.restore(ctx, part, old, true))
	}
	return nil
}

// restore puts part back as it was before a change smbd did not take.
func (c Config) restore(ctx context.Context, part string, old []byte, existed bool) error {
	var err error
	if existed {
		err = c.Host.WriteFile(ctx, c.Path(part), bytes.NewReader(old), 0o644)
	} else {
		err = c.Host.Remove(ctx, c.Path(part))
	}
	if err != nil {
		return fmt.Errorf("putting %s back as it was: %w", c.Path(part), err)
	}
	if err := c.writeIndex(ctx); err != nil {
		return fmt.Errorf("putting %s back as it was: %w", c.index(), err)
	}
	return nil
}

// include adds the line that includes the index to the main
// configuration, once; the index is written first, so that the line never
// names a missing file.
func (c Config) include(ctx context.Context) error {
	main, err := c.Host.ReadFile(ctx, c.Main)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("there is no Samba configuration at %s: install Samba there, or name its configuration file in smb_conf", c.Main)
	}
	if err != nil {
		return err
	}
	for l := range strings.Lines(string(main)) {
		if k, v, ok := param(l); ok && k == "include" && v == c.index() {
			return nil
		}
	}
	if err := c.writeIndex(ctx); err != nil {
		return err
	}
	// A main configuration that is a symlink is written where it points,
	// so that the link stays what it was.
	target, err := c.Host.RealPath(ctx, c.Main)
	if err != nil {
		return err
	}
	fi, err := c.Host.Lstat(ctx, target)
	if err != nil {
		return err
	}
	if len(main) > 0 && main[len(main)-1] != '\n' {
		main = append(main, '\n')
	}
	main = fmt.Appendf(main, "\n# Shares and names Drover manages: the files of %s (leave them to Drover).\ninclude = %s\n", c.Dir(), c.index())
	return c.Host.WriteFile(ctx, target, bytes.NewReader(main), fi.Mode().Perm())
}

// writeIndex rewrites the index from the parts in the folder.
func (c Config) writeIndex(ctx context.Context) error {
	if err := c.Host.MkdirAll(ctx, c.Dir(), 0o755); err != nil {
		return err
	}
	entries, err := c.Host.ReadDir(ctx, c.Dir())
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("# Written by Drover: one include per file of this folder.\n")
	var parts []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasSuffix(n, ".conf") && n != "index.conf" && !host.IsTempName(n) {
			parts = append(parts, n)
		}
	}
	slices.Sort(parts)
	for _, n := range parts {
		fmt.Fprintf(&b, "include = %s\n", path.Join(c.Dir(), n))
	}
	return c.Host.WriteFile(ctx, c.index(), &b, 0o644)
}

// NotRunningError is smbd not answering smbcontrol: not running, or
// running with another configuration.
type NotRunningError struct {
	Main   string
	Output string
}

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("smbd does not answer for %s (smbcontrol: %s): start smbd, or name the configuration it runs with in smb_conf", e.Main, e.Output)
}

// Reload has smbd load its configuration again, without a restart.
func (c Config) Reload(ctx context.Context) error { return c.smbcontrol(ctx, "reload-config") }

// Ping checks that smbd runs with the main configuration.
func (c Config) Ping(ctx context.Context) error { return c.smbcontrol(ctx, "ping") }

func (c Config) smbcontrol(ctx context.Context, msg string) error {
	var out bytes.Buffer
	res, err := c.Host.Run(ctx, []string{"smbcontrol", "-s", c.Main, "smbd", msg}, host.RunOptions{Stdout: &out, Stderr: &out})
	if err != nil {
		return fmt.Errorf("running smbcontrol (Debian's samba-common-bin): %w", err)
	}
	if res.ExitCode != 0 {
		return &NotRunningError{Main: c.Main, Output: strings.Join(strings.Fields(out.String()), " ")}
	}
	return nil
}

// Defined says whether the main configuration itself (not its includes)
// defines a section of that name, as Samba compares names: without case.
func (c Config) Defined(ctx context.Context, name string) (bool, error) {
	b, err := c.Host.ReadFile(ctx, c.Main)
	if errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("there is no Samba configuration at %s: install Samba there, or name its configuration file in smb_conf", c.Main)
	}
	if err != nil {
		return false, err
	}
	sections, err := Parse(b)
	if err != nil {
		return false, fmt.Errorf("%s: %w", c.Main, err)
	}
	return slices.ContainsFunc(sections, func(s Section) bool { return strings.EqualFold(s.Name, name) }), nil
}
