// Package sambatest starts a real smbd for tests: in the foreground, with
// an smb.conf of its own (every run, state and lock folder inside the
// test's folder), listening on a 127.0.0.1 high port, and lists its shares
// with smbclient, an independent client.
//
// Tests find the executables themselves (internal/testenv decides whether
// a missing one skips or fails), so this package stays usable from
// testscript commands, which have no testing.TB.
package sambatest
