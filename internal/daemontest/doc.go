// Package daemontest runs the real servers tests start (smbd,
// ganesha.nfsd, knotd, named): in the foreground, their output kept,
// ready once a probe of the caller's says so, stopped by their pid. What
// a server needs to start (its configuration, its files) and how it
// proves it is ready stay with the package for that server (sambatest,
// nfstest, dnstest); this one owns the process.
//
// It takes a context, not a testing.TB, so that testscript commands,
// which have none, can start servers too. It is for tests only; nothing
// outside _test.go files and the other test packages imports it.
package daemontest
