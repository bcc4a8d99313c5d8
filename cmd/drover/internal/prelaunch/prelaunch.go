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

// providerCommands start built-in providers on nearly every run: a
// command, or a command and its subcommand.
var providerCommands = map[string]bool{"plan": true, "apply": true, "destroy": true, "validate": true, "import": true,
	"failover": true, "failback": true, "drill": true, "runbook run": true}

func init() {
	name, sub := command(os.Args[1:])
	if !providerCommands[name] && !providerCommands[name+" "+sub] {
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

// command is the command args name and the word after it: the first two
// arguments that are neither global flags nor their values; "" when help
// is asked for.
func command(args []string) (name, sub string) {
	var words []string
	for i := 0; i < len(args) && len(words) < 2; i++ {
		switch a := args[i]; {
		case a == "-h" || a == "--help" || a == "--":
			return "", ""
		case a == "--chdir":
			i++
		case len(a) > 0 && a[0] == '-':
		default:
			words = append(words, a)
		}
	}
	words = append(words, "", "")
	return words[0], words[1]
}
