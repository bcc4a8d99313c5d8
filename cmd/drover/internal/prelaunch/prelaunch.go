// Package prelaunch starts a spare plugin process (package spare) as the
// drover CLI begins initialising, when its command line asks for a command
// that starts built-in providers. The CLI's own initialisation and the
// spare's then run side by side instead of one after the other. Only the
// CLI may import the package.
package prelaunch

import (
	"os"

	"github.com/drover-dr/drover/providers/plugin/spare"
)

// SpareCommand is the hidden subcommand a spare runs.
const SpareCommand = "internal-spare"

// providerCommands start built-in providers on nearly every run.
var providerCommands = map[string]bool{"plan": true, "apply": true, "destroy": true, "validate": true, "import": true}

func init() {
	if !providerCommands[command(os.Args[1:])] {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	if p, err := spare.Start(exe, SpareCommand); err == nil {
		spare.Keep(p)
	}
}

// command is the command args name: the first argument that is neither a
// global flag nor its value; "" when help is asked for.
func command(args []string) string {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-h" || a == "--help" || a == "--":
			return ""
		case a == "--chdir":
			i++
		case len(a) > 0 && a[0] == '-':
		default:
			return a
		}
	}
	return ""
}
