package main

import (
	"errors"
	"net"
	"net/http"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// checkCmds are the script commands that start the servers runbook checks
// are made against, on 127.0.0.1 ports of their own, stopped when the
// script ends.
var checkCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// listen VAR: a TCP listener accepting connections; VAR is its
	// host:port.
	"listen": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: listen VAR")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		ts.Defer(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		ts.Setenv(args[0], l.Addr().String())
	},
	// closedport VAR: VAR is a 127.0.0.1 host:port where nothing listens.
	"closedport": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: closedport VAR")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		ts.Setenv(args[0], l.Addr().String())
		ts.Check(l.Close())
	},
	// httpserve VAR STATUS: an HTTP server answering every request with
	// STATUS; VAR is its URL.
	"httpserve": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: httpserve VAR STATUS")
		}
		status, err := strconv.Atoi(args[1])
		ts.Check(err)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(l) }()
		ts.Defer(func() {
			srv.Close()
			if err := <-done; !errors.Is(err, http.ErrServerClosed) {
				ts.Logf("http server: %v", err)
			}
		})
		ts.Setenv(args[0], "http://"+l.Addr().String()+"/health")
	},
}
