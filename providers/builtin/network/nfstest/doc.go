// Package nfstest starts a real NFS-Ganesha server (ganesha.nfsd) for
// tests: in the foreground, NFSv4 only, with a ganesha.conf, pid file,
// log and recovery folder of its own inside the test's folder, listening
// on a 127.0.0.1 high port, and lists its exports with nfs-ls (libnfs), an
// independent client.
//
// Tests find the executables themselves (internal/testenv decides whether
// a missing one skips or fails), so this package stays usable from
// testscript commands, which have no testing.TB.
package nfstest
