package main

import (
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

func init() {
	// startsoverlap CONSOLE...: the guests whose console files these are
	// were started together: every console was made (a start makes it
	// anew) before any guest printed its marker (the console's last
	// write; a boot sector prints once and halts). Guests started one
	// after another fail it, as each start waits for its boot check.
	vmCmds["startsoverlap"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: startsoverlap CONSOLE CONSOLE...")
		}
		var lastMade, firstPrint time.Time
		for _, a := range args {
			var st unix.Statx_t
			ts.Check(unix.Statx(unix.AT_FDCWD, ts.MkAbs(a), 0, unix.STATX_BTIME|unix.STATX_MTIME, &st))
			if st.Mask&unix.STATX_BTIME == 0 {
				ts.Fatalf("the file system of %s keeps no birth times", a)
			}
			made := time.Unix(st.Btime.Sec, int64(st.Btime.Nsec))
			printed := time.Unix(st.Mtime.Sec, int64(st.Mtime.Nsec))
			ts.Logf("%s: made %s, printed %s", a, made.Format("15:04:05.000000"), printed.Format("15:04:05.000000"))
			if made.After(lastMade) {
				lastMade = made
			}
			if firstPrint.IsZero() || printed.Before(firstPrint) {
				firstPrint = printed
			}
		}
		if !lastMade.Before(firstPrint) {
			ts.Fatalf("the starts did not overlap: a console was made %s after a guest had printed its marker", lastMade.Sub(firstPrint))
		}
	}
}
