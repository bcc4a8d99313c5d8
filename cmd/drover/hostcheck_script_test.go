package main

import (
	"bufio"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// hostCheckCmds are the script commands that hold a host check open, for
// scripts to see what the run does meanwhile.
var hostCheckCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// silentssh PORTVAR FILE SEEN: listens on a 127.0.0.1 port (set in
	// PORTVAR) that accepts one connection and says nothing, as an sshd
	// that hangs before its banner, until FILE exists (or 15 s passed);
	// it then writes to SEEN whether FILE appeared while the connection
	// was held, and hangs up, which the client sees as an EOF.
	"silentssh": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 3 {
			ts.Fatalf("usage: silentssh PORTVAR FILE SEEN")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		ts.Defer(func() { l.Close() })
		ts.Setenv(args[0], strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
		file, seen := ts.MkAbs(args[1]), ts.MkAbs(args[2])
		go func() {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			verdict := "FILE never appeared while the connection was held\n"
			for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if _, err := os.Stat(file); err == nil {
					verdict = "FILE appeared while the connection was held\n"
					break
				}
			}
			// Read the client's version line, all it sends before the
			// server's: a close with nothing unread ends the connection
			// with an EOF, where unread bytes would reset it.
			c.SetReadDeadline(time.Now().Add(15 * time.Second))
			bufio.NewReader(c).ReadString('\n')
			os.WriteFile(seen, []byte(verdict), 0o644)
		}()
	},
}
