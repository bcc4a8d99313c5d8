package sambaconf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/network/confdir"
)

// DefaultMain is where Debian and most distributions keep smb.conf.
const DefaultMain = "/etc/samba/smb.conf"

// Config is the Drover-managed part of one Samba server's configuration.
type Config struct {
	Host host.Host
	// Main is the path of the server's main configuration file.
	Main string
}

// files are Drover's files beside the main configuration.
func (c Config) files() confdir.Files {
	return confdir.Files{Host: c.Host, Main: c.Main, Syntax: syntax}
}

// syntax is smb.conf's: `include = FILE`, the key and the spaces around
// the "=" as Samba reads them.
var syntax = confdir.Syntax{
	Include: func(file string) string { return "include = " + file },
	Includes: func(line, file string) bool {
		k, v, ok := param(line)
		return ok && k == "include" && v == file
	},
	Missing: func(main string) error {
		return fmt.Errorf("there is no Samba configuration at %s: install Samba there, or name its configuration file in smb_conf", main)
	},
	Holds: "Shares and names Drover manages",
}

// Dir is the folder of Drover's files.
func (c Config) Dir() string { return c.files().Dir() }

// Path is the file that holds part.
func (c Config) Path(part string) string { return c.files().Path(part) }

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
	f := c.files()
	defer f.Lock()()
	if err := f.Include(ctx); err != nil {
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
	if err := f.WriteIndex(ctx); err != nil {
		return errors.Join(err, f.Restore(ctx, part, old, existed))
	}
	if err := c.Reload(ctx); err != nil {
		return errors.Join(err, f.Restore(ctx, part, old, existed))
	}
	return nil
}

// Remove removes part and has smbd forget it. A part already gone is
// removed. If the reload fails, part is put back.
func (c Config) Remove(ctx context.Context, part string) error {
	f := c.files()
	defer f.Lock()()
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
	if err := f.WriteIndex(ctx); err != nil {
		return errors.Join(err, f.Restore(ctx, part, old, true))
	}
	if err := c.Reload(ctx); err != nil {
		return errors.Join(err, f.Restore(ctx, part, old, true))
	}
	return nil
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
	b, err := c.files().ReadMain(ctx)
	if err != nil {
		return false, err
	}
	sections, err := Parse(b)
	if err != nil {
		return false, fmt.Errorf("%s: %w", c.Main, err)
	}
	return slices.ContainsFunc(sections, func(s Section) bool { return strings.EqualFold(s.Name, name) }), nil
}
