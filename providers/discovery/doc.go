// Package discovery finds third-party provider binaries in plugin folders
// and keeps the lock file that pins them: `drover init` records each
// binary's version and checksum, and plan and apply refuse a binary whose
// checksum no longer matches.
//
// Layout of a plugin folder (project-local `.drover/plugins`, then the
// user's `~/.drover.d/plugins`):
//
//	<folder>/<source>/<version>/drover-provider-<name>
//
// e.g. `.drover/plugins/example.com/acme/hello/1.2.0/drover-provider-hello`.
// The package never starts a provider; it only finds and checks files.
package discovery
