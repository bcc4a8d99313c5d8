// Package shellquote turns an argv into one command line that a POSIX shell
// (sh, dash, bash, busybox ash) splits back into exactly that argv, with no
// expansion of any kind. It exists for transports that can only hand a
// remote machine a string (an SSH exec request, which sshd gives to the
// user's shell): every such string is built here, from argv, never by
// concatenating configuration into a command.
package shellquote
