// Package builtin lists the providers compiled into the drover binary and
// serves them. The core never calls them in process: Entries gives one
// registry entry per built-in whose Factory starts `drover internal-plugin
// NAME` as a go-plugin process, exactly as a third-party provider would be
// started (or has a spare process of the binary become it, package
// spare), and Serve is what that hidden subcommand runs.
//
// Provider returns a built-in's SDK description for tests that want it in
// process (sdk.New).
package builtin
