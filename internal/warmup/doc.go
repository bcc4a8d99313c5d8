// Package warmup starts, while the process initialises, work that the
// first plugin connection would otherwise wait for. Importing it is
// enough: the CLI and each provider plugin (the same binary) build the
// P-521 tables that go-plugin's automatic mutual TLS needs for its
// certificates on a spare core, instead of on the path to the first call.
package warmup
