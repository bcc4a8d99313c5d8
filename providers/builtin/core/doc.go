// Package core is the built-in provider "core": the resource types every
// configuration may need whatever machines it drives.
//
//   - file: a regular file on a host, with content given inline. A local
//     file's content is read with the configuration's file() or
//     filebase64() functions rather than a `source` argument: lang already
//     confines those functions to the configuration folder, the content is
//     then known at plan time (so the plan shows the real diff and the
//     checksum), and the provider, which may run in another process or
//     later on another machine, never needs to know where the configuration
//     folder is.
//   - data source file: reads a file on a host (text, base64, checksum),
//     so configuration can use what a machine holds.
//   - value: holds a value in state, like OpenTofu's terraform_data; no
//     side effects.
//   - actions run (a program on a host, argv never through a shell, its
//     output streamed back as progress, its process group killed when the
//     call ends), wait, and check (a TCP connect, an HTTP status, a
//     command's exit code, a file's presence or content, made from the
//     step's host; one that does not hold is a result, not an error),
//     which runbook steps invoke: the core engine never runs a command or
//     opens a connection itself.
//
// The resources are cheap per call: value does no I/O at all, and file does one read
// per refresh and one atomic write per change.
package core
