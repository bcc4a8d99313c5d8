package main

import (
	"context"
	"os"

	"github.com/drover-dr/drover/host/agent"
	"github.com/spf13/cobra"
)

// agentCommand makes drover serve the agent on stdio: what an SSH host
// starts on its machine (package agent).
const agentCommand = "internal-agent"

// Every drover process may upload itself as the agent: the command and
// the built-in providers' plugin processes, which run this binary too.
func init() { agent.Enable(agentCommand) }

// newInternalAgentCommand serves the agent on stdin and stdout until stdin
// ends, which it does with the SSH connection; it listens on no port.
func newInternalAgentCommand() *cobra.Command {
	return &cobra.Command{
		Use:               agentCommand,
		Hidden:            true,
		Args:              cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			// Stdout is the protocol: anything else printed goes to
			// stderr, which the controller keeps for errors.
			out := os.Stdout
			os.Stdout = os.Stderr
			return agent.Serve(context.Background(), os.Stdin, out)
		},
	}
}
