// Package lifeline ties a plugin process's life to the Drover process that
// started it, so that no plugin outlives its CLI however the CLI ends
// (SIGKILL, a closed output pipe, a second Ctrl-C).
//
// The starting side (Start, Stdin) gives each plugin two ties: on Linux,
// SIGTERM as its parent-death signal, and on every system a standard
// input that is a pipe the CLI never writes to, whose end the plugin reads
// once the CLI is gone. The kernel sends the parent-death signal when the
// thread that forked the child ends, not its process, and Go ends threads
// under a running program; so every plugin is started from one OS thread
// kept for the life of the process.
//
// The plugin side (Watch) runs the plugin's ending once, on SIGTERM or at
// the end of that input: the ending lets the provider stop what it does,
// within a bound, so that what it touches is left whole, then exits.
//
// Like package spare, the package imports only small standard library
// packages: a spare is started from an init function.
package lifeline
