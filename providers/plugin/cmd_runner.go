package plugin

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/drover-dr/drover/providers/plugin/lifeline"
)

// cmdRunner is go-plugin's view of a plugin process started from a
// command: as go-plugin's own, but started through package lifeline, so
// that the plugin ends when this process does.
type cmdRunner struct {
	cmd            *exec.Cmd
	stdout, stderr io.ReadCloser
}

// newCmdRunner makes the runner of command, taking the environment and
// the folder go-plugin prepared (in spec) on top of command's own.
func newCmdRunner(command, spec *exec.Cmd) (*cmdRunner, error) {
	stdin, err := lifeline.Stdin()
	if err != nil {
		return nil, err
	}
	command.Env = append(append(command.Environ(), spec.Env...), lifeline.Env())
	command.Stdin = stdin
	r := &cmdRunner{cmd: command}
	if r.stdout, err = command.StdoutPipe(); err != nil {
		return nil, err
	}
	if r.stderr, err = command.StderrPipe(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *cmdRunner) Start(context.Context) error {
	if r.cmd.SysProcAttr == nil {
		r.cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	return lifeline.Start(r.cmd.SysProcAttr, r.cmd.Start)
}

func (r *cmdRunner) Diagnose(context.Context) string { return "" }
func (r *cmdRunner) Stdout() io.ReadCloser           { return r.stdout }
func (r *cmdRunner) Stderr() io.ReadCloser           { return r.stderr }
func (r *cmdRunner) Name() string                    { return r.cmd.Path }
func (r *cmdRunner) Wait(context.Context) error      { return r.cmd.Wait() }

func (r *cmdRunner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func (r *cmdRunner) ID() string {
	if r.cmd.Process == nil {
		return ""
	}
	return strconv.Itoa(r.cmd.Process.Pid)
}

func (r *cmdRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (r *cmdRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}
