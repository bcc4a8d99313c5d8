package plugin

import (
	"context"
	"io"
	"os"
	"strconv"

	"github.com/drover-dr/drover/providers/plugin/spare"
)

// spareRunner is go-plugin's view of a spare process becoming a plugin:
// starting it hands it the orders the plugin would have been started with.
type spareRunner struct {
	p      *spare.Process
	args   []string
	env    []string
	secret []byte
}

func (r *spareRunner) Start(context.Context) error {
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	return r.p.Hand(r.args, r.env, dir, r.secret)
}

func (r *spareRunner) Diagnose(context.Context) string { return "" }
func (r *spareRunner) Stdout() io.ReadCloser           { return r.p.Stdout() }
func (r *spareRunner) Stderr() io.ReadCloser           { return r.p.Stderr() }
func (r *spareRunner) Name() string                    { return r.p.Path() }
func (r *spareRunner) Wait(context.Context) error      { return r.p.Wait() }
func (r *spareRunner) Kill(context.Context) error      { return r.p.Kill() }
func (r *spareRunner) ID() string                      { return strconv.Itoa(r.p.Pid()) }

func (r *spareRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (r *spareRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}
