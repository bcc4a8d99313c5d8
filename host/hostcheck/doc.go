// Package hostcheck reaches the hosts a run will use before anything is
// planned or done on any of them: for each SSH host one connection that
// proves the machine is reachable, its host key is the one known (or, when
// asked, records a new one and says so) and the login works; on request it
// also proves what providers need there (writing below the root, running
// commands, superuser rights). It is the core's check: providers, in their
// own processes, later connect with strict host key verification only.
//
// It does not print: results are values for the CLI to render.
package hostcheck
