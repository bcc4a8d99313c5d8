// Package warmup tunes each drover process as it starts, for the short
// runs a CLI makes: importing it is enough. The CLI and each provider
// plugin (the same binary) build the P-521 tables that go-plugin's
// automatic mutual TLS needs on a spare core instead of on the path to
// the first call, and on Linux back the Go heap with transparent huge
// pages, so that a large plan does not pay one page fault per 4 KiB.
package warmup
