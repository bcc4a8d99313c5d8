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
	os.Exit(m.Run())
}
