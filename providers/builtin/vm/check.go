package vm

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path"
	"strings"
	"time"

	"github.com/drover-dr/drover/host"
)

// consoleLines is how much of the console a failed boot check shows.
const consoleLines = 10

// bootCheckInterval is how often a start looks at the console and the
// port. A failover's next step waits on the check, and a look is one read
// of a small local file or one local connect, so it looks often: at 50 ms
// the check passed 25 ms after the marker on average, a tenth of a boot
// sector's whole boot under TCG (bench/vm.sh).
const bootCheckInterval = 10 * time.Millisecond

// awaitBoot polls until the guest passes its boot check: the marker on the
// console, the TCP port accepting. The console file holds only what this
// start printed, as launch makes it anew, so a marker of an earlier boot
// never passes the check. alive says whether the guest's hypervisor still
// runs it.
func awaitBoot(ctx context.Context, h host.Host, g *guest, alive func() bool) error {
	c := g.check
	if c == nil {
		return nil
	}
	deadline := time.Now().Add(c.timeout)
	tick := time.NewTicker(bootCheckInterval)
	defer tick.Stop()
	serialOK, tcpOK := c.serial == "", c.tcp == ""
	for {
		if !serialOK {
			if b, err := h.ReadFile(ctx, g.serial); err == nil && bytes.Contains(b, []byte(c.serial)) {
				serialOK = true
			}
		}
		if !tcpOK {
			d := net.Dialer{Timeout: time.Second}
			if conn, err := d.DialContext(ctx, "tcp", c.tcp); err == nil {
				conn.Close()
				tcpOK = true
			}
		}
		if serialOK && tcpOK {
			return nil
		}
		var why string
		switch {
		case !alive():
			why = "the guest stopped during the boot"
		case time.Now().After(deadline):
			why = fmt.Sprintf("not passed within %s", c.timeout)
		case ctx.Err() != nil:
			return ctx.Err()
		}
		if why != "" {
			return fmt.Errorf("boot check %s: %s", c, why)
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

func (c *bootCheck) String() string {
	var parts []string
	if c.serial != "" {
		parts = append(parts, fmt.Sprintf("%q on the console", c.serial))
	}
	if c.tcp != "" {
		parts = append(parts, "TCP "+c.tcp+" accepting")
	}
	return strings.Join(parts, " and ")
}

// newConsole makes the console file p anew, empty, before the hypervisor
// opens it: a marker of an earlier boot must never pass the check, and
// QEMU follows a symlink at the path and truncates what it leads to, so a
// new file is renamed over whatever is there. Nothing is synced, unlike
// WriteFile: the file holds nothing worth keeping yet, and each start
// waits on this (two fsyncs took up to 20 ms on a busy disk).
func newConsole(ctx context.Context, h host.Host, p string) error {
	if err := h.MkdirAll(ctx, path.Dir(p), 0o755); err != nil {
		return err
	}
	f, tmp, err := h.CreateTemp(ctx, p)
	if err != nil {
		return err
	}
	err = f.Close()
	if err == nil {
		err = h.Rename(ctx, tmp, p)
	}
	if err != nil {
		h.Remove(ctx, tmp)
	}
	return err
}

// consoleTail describes the last lines of the console, for a boot that
// failed: a sentence, or a line followed by the console's own.
func consoleTail(ctx context.Context, h host.Host, g *guest) string {
	b, err := h.ReadFile(ctx, g.serial)
	switch {
	case err != nil:
		return fmt.Sprintf("The console file %s cannot be read: %s.", g.serial, err)
	case len(bytes.TrimSpace(b)) == 0:
		return fmt.Sprintf("The console (%s) stayed empty.", g.serial)
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r", ""), "\n"), "\n")
	if len(lines) > consoleLines {
		lines = lines[len(lines)-consoleLines:]
	}
	return fmt.Sprintf("The console (%s) ends with:\n%s", g.serial, strings.Join(lines, "\n"))
}
