package nfsconf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/network/confdir"
)

// DefaultMain and DefaultPidFile are where Debian's nfs-ganesha keeps its
// configuration and ganesha.nfsd its pid.
const (
	DefaultMain    = "/etc/ganesha/ganesha.conf"
	DefaultPidFile = "/var/run/ganesha/ganesha.pid"
	// defaultLog is where ganesha.nfsd logs without -L.
	defaultLog = "/var/log/ganesha/ganesha.log"
)

// Config is the Drover-managed part of one NFS-Ganesha server's
// configuration.
type Config struct {
	Host host.Host
	// Main is the path of the server's main configuration file.
	Main string
	// PidFile is the file ganesha.nfsd writes its pid to (-p).
	PidFile string
}

// files are Drover's files beside the main configuration.
func (c Config) files() confdir.Files {
	return confdir.Files{Host: c.Host, Main: c.Main, Syntax: syntax}
}

// syntax is ganesha.conf's: `%include "FILE"`.
var syntax = confdir.Syntax{
	Include: func(file string) string { return fmt.Sprintf("%%include \"%s\"", file) },
	Missing: func(main string) error {
		return fmt.Errorf("there is no NFS-Ganesha configuration at %s: install nfs-ganesha there, or name its configuration file in ganesha_conf", main)
	},
	Holds: "Exports Drover manages",
}

// Dir is the folder of Drover's files.
func (c Config) Dir() string { return c.files().Dir() }

// Path is the file that holds part.
func (c Config) Path(part string) string { return c.files().Path(part) }

// Read returns the export part holds, and false when there is none (no
// file, or no EXPORT block in it).
func (c Config) Read(ctx context.Context, part string) (Export, bool, error) {
	b, err := c.Host.ReadFile(ctx, c.Path(part))
	if errors.Is(err, fs.ErrNotExist) {
		return Export{}, false, nil
	}
	if err != nil {
		return Export{}, false, err
	}
	return parseExport(c.Path(part), b)
}

func parseExport(file string, b []byte) (Export, bool, error) {
	blocks, err := Parse(b)
	if err != nil {
		return Export{}, false, fmt.Errorf("%s: %w", file, err)
	}
	exports, err := Exports(blocks)
	if err != nil {
		return Export{}, false, fmt.Errorf("%s: %w", file, err)
	}
	if len(exports) == 0 {
		return Export{}, false, nil
	}
	return exports[0], true, nil
}

// main parses the main configuration (without its includes).
func (c Config) main(ctx context.Context) ([]Block, error) {
	b, err := c.files().ReadMain(ctx)
	if err != nil {
		return nil, err
	}
	blocks, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Main, err)
	}
	return blocks, nil
}

// Defined says whether the main configuration itself (not its includes)
// exports the pseudo path.
func (c Config) Defined(ctx context.Context, pseudo string) (bool, error) {
	blocks, err := c.main(ctx)
	if err != nil {
		return false, err
	}
	exports, err := Exports(blocks)
	if err != nil {
		return false, fmt.Errorf("%s: %w", c.Main, err)
	}
	return slices.ContainsFunc(exports, func(e Export) bool { return e.Pseudo == pseudo }), nil
}

// ID is the Export_Id of part: the one its file holds, else
// StableID(name) or the next id after it that neither the main
// configuration nor another of Drover's files uses.
func (c Config) ID(ctx context.Context, part, name string) (int, error) {
	if e, found, err := c.Read(ctx, part); err != nil || found {
		return e.ID, err
	}
	blocks, err := c.main(ctx)
	if err != nil {
		return 0, err
	}
	exports, err := Exports(blocks)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", c.Main, err)
	}
	parts, err := c.files().Parts(ctx)
	if err != nil {
		return 0, err
	}
	for _, p := range parts {
		if p == part {
			continue
		}
		e, found, err := c.Read(ctx, p)
		if err != nil {
			return 0, err
		}
		if found {
			exports = append(exports, e)
		}
	}
	used := map[int]bool{0: true}
	for _, e := range exports {
		used[e.ID] = true
	}
	return freeID(name, used)
}

// Put makes part hold the export e and has ganesha.nfsd serve it. If the
// server does not take it, part is put back as it was and the error says
// why.
func (c Config) Put(ctx context.Context, part string, e Export) error {
	f := c.files()
	defer f.Lock()()
	srv, err := c.server(ctx)
	if err != nil {
		return err
	}
	if err := f.Include(ctx); err != nil {
		return err
	}
	old, err := c.Host.ReadFile(ctx, c.Path(part))
	existed := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	was, _, _ := parseExport(c.Path(part), old)
	if existed && was.Path != e.Path {
		// Ganesha drops an export whose path changes in place: the old
		// one goes in a reload of its own first.
		if err := c.Host.Remove(ctx, c.Path(part)); err != nil {
			return err
		}
		if err := c.reload(ctx, srv, part, was, false); err != nil {
			return errors.Join(err, c.restore(ctx, srv, part, old, true, was, was))
		}
	}
	if err := c.Host.WriteFile(ctx, c.Path(part), bytes.NewReader(e.Format()), 0o644); err != nil {
		return errors.Join(err, c.restore(ctx, srv, part, old, existed, was, e))
	}
	if err := c.reload(ctx, srv, part, e, true); err != nil {
		return errors.Join(err, c.restore(ctx, srv, part, old, existed, was, e))
	}
	return nil
}

// Remove removes part and has ganesha.nfsd stop serving its export. A
// part already gone is removed. If the server does not take it, part is
// put back.
func (c Config) Remove(ctx context.Context, part string) error {
	defer c.files().Lock()()
	old, err := c.Host.ReadFile(ctx, c.Path(part))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	was, _, _ := parseExport(c.Path(part), old)
	srv, err := c.server(ctx)
	if err != nil {
		return err
	}
	if err := c.Host.Remove(ctx, c.Path(part)); err != nil {
		return err
	}
	if err := c.reload(ctx, srv, part, was, false); err != nil {
		return errors.Join(err, c.restore(ctx, srv, part, old, true, was, was))
	}
	return nil
}

// restore puts part back as it was before a change the server did not
// take (tried), and has a server still running serve what it served
// before: was again where part existed, nothing of tried where not.
func (c Config) restore(ctx context.Context, srv server, part string, old []byte, existed bool, was, tried Export) error {
	if err := c.files().Restore(ctx, part, old, existed); err != nil {
		return err
	}
	if _, err := c.server(ctx); err != nil {
		return nil // a server that is not running serves nothing; it reads the files as they were when it starts
	}
	e := tried
	if existed {
		e = was
	}
	if err := c.reload(ctx, srv, part, e, existed); err != nil {
		return fmt.Errorf("%s is back as it was, but the server did not take it again: %w", c.Path(part), err)
	}
	return nil
}

// NotRunningError is no ganesha.nfsd running with the main configuration
// at the pid its pid file names.
type NotRunningError struct {
	PidFile, Main string
	Reason        string
}

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("ganesha.nfsd is not running for %s: %s; start it (ganesha.nfsd -f %s -p %s), or name its pid file in ganesha_pid_file",
		e.PidFile, e.Reason, e.Main, e.PidFile)
}

// server is what Drover needs of the running ganesha.nfsd: its pid, its
// log file ("" when it logs elsewhere) and the address a client on its
// machine reaches it at.
type server struct {
	pid  string
	log  string
	addr string
}

// Ping checks that ganesha.nfsd runs with the main configuration.
func (c Config) Ping(ctx context.Context) error {
	_, err := c.server(ctx)
	return err
}

func (c Config) server(ctx context.Context) (server, error) {
	notRunning := func(format string, args ...any) error {
		return &NotRunningError{PidFile: c.PidFile, Main: c.Main, Reason: fmt.Sprintf(format, args...)}
	}
	b, err := c.Host.ReadFile(ctx, c.PidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return server{}, notRunning("there is no such file")
	}
	if err != nil {
		return server{}, err
	}
	pid := strings.TrimSpace(string(b))
	if n, err := strconv.Atoi(pid); err != nil || n <= 0 {
		return server{}, notRunning("it holds %q, not a pid", pid)
	}
	// The process's command line says what it is and which configuration
	// and log it was started with.
	cmdline, err := c.Host.ReadFile(ctx, "/proc/"+pid+"/cmdline")
	if err != nil {
		return server{}, notRunning("no process %s runs", pid)
	}
	args := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
	if !strings.Contains(path.Base(args[0]), "ganesha") {
		return server{}, notRunning("process %s is %s, not ganesha.nfsd", pid, args[0])
	}
	srv := server{pid: pid, log: defaultLog}
	conf := DefaultMain
	for i, a := range args {
		if i+1 >= len(args) {
			break
		}
		switch a {
		case "-f":
			conf = args[i+1]
		case "-L":
			srv.log = args[i+1]
		}
	}
	if conf != c.Main {
		return server{}, notRunning("process %s runs with %s, not %s", pid, conf, c.Main)
	}
	if strings.HasPrefix(srv.log, "/dev/") || !strings.HasPrefix(srv.log, "/") {
		srv.log = "" // stderr, syslog: nothing Drover can read back
	}
	blocks, err := c.main(ctx)
	if err != nil {
		return server{}, err
	}
	port, bind := "2049", "0.0.0.0"
	for _, b := range blocks {
		if strings.EqualFold(b.Name, "NFS_CORE_PARAM") {
			if v, ok := b.Get("NFS_Port"); ok {
				port = v
			}
			if v, ok := b.Get("Bind_addr"); ok {
				bind = v
			}
		}
	}
	switch bind {
	case "0.0.0.0":
		bind = "127.0.0.1"
	case "::":
		bind = "::1"
	}
	srv.addr = net.JoinHostPort(bind, port)
	return srv, nil
}

// reloadTimeout bounds how long a reload takes to show.
const reloadTimeout = 15 * time.Second

// reload has the server reread its exports and proves that it took the
// change: e is served (present) or not, afterwards.
func (c Config) reload(ctx context.Context, srv server, part string, e Export, present bool) error {
	if err := c.files().WriteIndex(ctx); err != nil {
		return err
	}
	var offset int
	if srv.log != "" {
		b, err := c.Host.ReadFile(ctx, srv.log)
		if err != nil {
			srv.log = ""
		}
		offset = len(b)
	}
	var out bytes.Buffer
	if res, err := c.Host.Run(ctx, []string{"kill", "-HUP", srv.pid}, host.RunOptions{Stdout: &out, Stderr: &out}); err != nil || res.ExitCode != 0 {
		return errors.Join(err, &NotRunningError{PidFile: c.PidFile, Main: c.Main,
			Reason: fmt.Sprintf("kill -HUP %s: %s", srv.pid, strings.TrimSpace(out.String()))})
	}
	deadline := time.Now().Add(reloadTimeout)
	var crit []string
	if srv.log != "" {
		done := false
		for !done {
			b, err := c.Host.ReadFile(ctx, srv.log)
			if err != nil {
				return err
			}
			if offset > len(b) {
				offset = 0 // the log was rotated
			}
			crit = crit[:0]
			for l := range strings.Lines(string(b[offset:])) {
				if strings.Contains(l, ":CRIT :") && (strings.Contains(l, c.Path(part)) || strings.Contains(l, "("+e.Pseudo+")") ||
					strings.Contains(l, " "+strconv.Itoa(e.ID)+" ") || strings.HasSuffix(strings.TrimSpace(l), "= "+strconv.Itoa(e.ID))) {
					crit = append(crit, strings.TrimSpace(l[strings.Index(l, ":CRIT :")+len(":CRIT :"):]))
				}
				done = done || strings.Contains(l, "Reread exports complete")
			}
			if done {
				break
			}
			if err := wait(ctx, deadline); err != nil {
				return fmt.Errorf("ganesha.nfsd (pid %s) did not log that it reread its exports within %s (%s): %w", srv.pid, reloadTimeout, srv.log, err)
			}
		}
	}
	if srv.log != "" {
		// The reread is over: what the server serves now is final, but
		// for a moment's grace.
		deadline = time.Now().Add(time.Second)
	}
	served, asked, err := c.serves(ctx, srv, e.Pseudo, present, deadline)
	if err != nil {
		return err
	}
	why := ""
	if len(crit) > 0 {
		why = "; its log says: " + strings.Join(crit, "; ")
	}
	switch {
	case !asked && srv.log == "":
		return fmt.Errorf("cannot tell whether ganesha.nfsd took the change to %s: install libnfs-utils (nfs-ls) on host %q, or have ganesha.nfsd log to a file (-L)",
			c.Path(part), c.Host.Name())
	case !asked && present && len(crit) > 0:
		return fmt.Errorf("ganesha.nfsd did not take %s%s", c.Path(part), why)
	case asked && served != present && present:
		return fmt.Errorf("ganesha.nfsd does not serve %s (%s) after rereading its exports%s", e.Pseudo, c.Path(part), why)
	case asked && served != present:
		return fmt.Errorf("ganesha.nfsd still serves %s after rereading its exports without %s%s", e.Pseudo, c.Path(part), why)
	}
	return nil
}

// serves asks the server, with nfs-ls on its machine, whether it serves
// pseudo, until the answer is want or the deadline passes; asked is false
// when there is no nfs-ls to ask with.
func (c Config) serves(ctx context.Context, srv server, pseudo string, want bool, deadline time.Time) (served, asked bool, err error) {
	if pseudo == "" {
		return false, false, nil
	}
	host_, port, _ := net.SplitHostPort(srv.addr)
	if strings.Contains(host_, ":") {
		host_ = "[" + host_ + "]"
	}
	url := fmt.Sprintf("nfs://%s%s?nfsport=%s&version=4", host_, pseudo, port)
	for {
		var out bytes.Buffer
		res, err := c.Host.Run(ctx, []string{"nfs-ls", url}, host.RunOptions{Stdout: &out, Stderr: &out})
		if err != nil {
			if ctx.Err() != nil {
				return false, true, err
			}
			return false, false, nil
		}
		switch {
		case res.ExitCode == 0:
			served = true
		case strings.Contains(out.String(), "NFS4ERR_NOENT"):
			served = false
		default:
			return false, true, fmt.Errorf("asking ganesha.nfsd at %s: nfs-ls %s: %s", srv.addr, url, strings.Join(strings.Fields(out.String()), " "))
		}
		if served == want {
			return served, true, nil
		}
		if wait(ctx, deadline) != nil {
			return served, true, nil
		}
	}
}

// wait pauses before the next poll, or fails once the deadline passed.
func wait(ctx context.Context, deadline time.Time) error {
	if time.Now().After(deadline) {
		return errors.New("timed out")
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(50 * time.Millisecond):
		return nil
	}
}
