package main

import (
	"os"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// globalOptions are the flags every command takes.
type globalOptions struct {
	chdir   string
	noColor bool
	json    bool

	interrupts *interrupts
}

func (g *globalOptions) addFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&g.chdir, "chdir", "", "switch to `DIR` before doing anything (the configuration folder)")
	f.BoolVar(&g.noColor, "no-color", false, "never colour the output")
	f.BoolVar(&g.json, "json", false, "machine-readable output: one JSON object per line")
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// newView makes the output of one command run.
func (g *globalOptions) newView() *view {
	// A dumb terminal (TERM=dumb: an editor's shell, a CI log) shows text
	// as written: no colour, and no bars, which redraw with cursor moves.
	term := isTerminal(os.Stdout) && os.Getenv("TERM") != "dumb"
	return &view{
		out:      os.Stdout,
		err:      os.Stderr,
		json:     g.json,
		color:    term && !g.noColor && os.Getenv("NO_COLOR") == "",
		terminal: term && !g.json,

		interrupts: g.interrupts,
	}
}
