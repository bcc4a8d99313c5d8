package builtin

import (
	"fmt"
	"os/exec"
	"strings"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/plugin"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/hashicorp/go-hclog"
)

// Entries lists the built-in providers for a registry. Each runs as a
// plugin process started from exe (the drover binary) with the hidden
// subcommand `internal-plugin NAME`, exactly as a third-party provider runs.
func Entries(exe string, logger hclog.Logger) []providers.Entry {
	var out []providers.Entry
	for _, name := range Names() {
		out = append(out, providers.Entry{
			Name:    name,
			Factory: plugin.Factory(name, func() *exec.Cmd { return exec.Command(exe, "internal-plugin", name) }, logger),
			Types:   types(Provider(name)),
		})
	}
	return out
}

// Serve serves the built-in provider called name in this process; the
// `internal-plugin` subcommand calls it.
func Serve(name string) error {
	p := Provider(name)
	if p == nil {
		return fmt.Errorf("no built-in provider named %q (built-ins: %s)", name, strings.Join(Names(), ", "))
	}
	sdk.Serve(p)
	return nil
}
