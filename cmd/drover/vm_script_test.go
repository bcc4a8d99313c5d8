package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/drover-dr/drover/providers/builtin/vm/bootsector"
	"github.com/rogpeppe/go-internal/testscript"
)

// vmCmds are the script commands for guests: the disks they boot and the
// QEMU processes they run as.
var vmCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// bootsector FILE MARKER: writes a boot sector printing MARKER at the
	// start of FILE, in place, as a live system writes its drive (a new
	// FILE is a 1 MiB image). Any QEMU still running below $WORK when the
	// script ends is killed.
	"bootsector": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: bootsector FILE MARKER")
		}
		sector, err := bootsector.Image(args[1])
		ts.Check(err)
		p := ts.MkAbs(args[0])
		ts.Check(os.MkdirAll(filepath.Dir(p), 0o755))
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
		ts.Check(err)
		if fi, err := f.Stat(); err == nil && fi.Size() == 0 {
			ts.Check(f.Truncate(1 << 20))
		}
		_, err = f.WriteAt(sector, 0)
		ts.Check(err)
		ts.Check(f.Close())
		work := ts.Getenv("WORK")
		ts.Defer(func() {
			for _, pid := range qemusBelow(work) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		})
	},
	// noqemu: no QEMU runs below $WORK.
	"noqemu": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: noqemu")
		}
		if pids := qemusBelow(ts.Getenv("WORK")); len(pids) > 0 {
			ts.Fatalf("QEMU still runs: pids %v", pids)
		}
	},
	// killpid PIDFILE: kills the process the file names, as someone
	// stopping a guest behind Drover's back, and waits until it is gone.
	"killpid": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: killpid PIDFILE")
		}
		b, err := os.ReadFile(ts.MkAbs(args[0]))
		ts.Check(err)
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		ts.Check(err)
		ts.Check(syscall.Kill(pid, syscall.SIGKILL))
	},
}

// qemusBelow lists the QEMU processes whose command line names a path
// below dir.
func qemusBelow(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte("qemu-system-")) && bytes.Contains(cmdline, []byte(dir+"/")) {
			pids = append(pids, pid)
		}
	}
	return pids
}
