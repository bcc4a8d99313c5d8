// Package agenttest lets a test binary be the agent its tests upload to
// SSH hosts, as the drover binary is in use: started with the agent's
// command, it serves the ops its package registered.
package agenttest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/drover-dr/drover/host/agent"
)

// Command is what the test binary is started with on the machine to serve
// as the agent.
const Command = "internal-agent"

// Main is a package's TestMain: it serves as the agent when started as
// one, and otherwise runs m with SSH hosts uploading this binary.
func Main(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == Command {
		if err := agent.Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	agent.Enable(Command)
	// The controller records its executable's checksum in the user's
	// cache folder: a test binary's goes to one of the run's own, not
	// the real user's.
	cache, err := os.MkdirTemp("", "agenttest-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CACHE_HOME", cache)
	code := m.Run()
	os.RemoveAll(cache)
	os.Exit(code)
}
