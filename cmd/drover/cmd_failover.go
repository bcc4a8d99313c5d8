package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// newFailoverCommand makes `failover` or `failback` (kind): the runbook of
// that name by default, or the one given.
func newFailoverCommand(g *globalOptions, kind string) *cobra.Command {
	o := &runbookOptions{}
	cmd := &cobra.Command{
		Use:   kind + " [RUNBOOK|PLANFILE]",
		Short: "Run the " + kind + " runbook",
		Long: `Plans the runbook "` + kind + `" (or RUNBOOK), shows its steps, asks for "yes" unless
--auto-approve and runs them in wave order. Every step is recorded in the state before
and after it acts: a run that stops (even killed) is continued by the next, its finished
steps skipped. With PLANFILE (plan --runbook NAME --out FILE) runs exactly that plan,
refused when the state or the configuration changed since.` + failbackHelp(kind) + `

` + exitCodesHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, planFile := kind, ""
			if len(args) == 1 {
				name = args[0]
				if looksLikeFile(name) {
					name, planFile = "", args[0]
				}
			}
			return runRunbook(cmd.Context(), g, o, kind, name, planFile)
		},
	}
	o.addFlags(cmd)
	return cmd
}

func failbackHelp(kind string) string {
	if kind != "failback" {
		return ""
	}
	return `

A failback gives back what the failovers in force hold after its own steps: it imports
the registry undo files their imports kept and restores the boot defaults they replaced.
Without a runbook "failback" in the configuration, that is all it does.`
}

// looksLikeFile tells a plan file from a runbook name, which is an HCL
// identifier and so has no dot or slash.
func looksLikeFile(arg string) bool {
	return strings.ContainsAny(arg, "./")
}
