// Command plugin serves Drover's built-in providers the way the drover
// binary's hidden subcommand does: `plugin internal-plugin NAME`.
package main

import (
	"fmt"
	"os"

	"github.com/drover-dr/drover/providers/builtin"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "internal-plugin" {
		fmt.Fprintln(os.Stderr, "usage: plugin internal-plugin NAME")
		os.Exit(2)
	}
	if err := builtin.Serve(os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
