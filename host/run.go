package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// waitDelay bounds how long Run waits for a killed command's output pipes
// to close when something it started still holds them.
const waitDelay = 5 * time.Second

// Run executes argv without a shell. On a rooted host an absolute argv[0]
// found below the root runs from there (otherwise from the machine), Dir is
// resolved below the root, and DROVER_HOST_ROOT names the root.
func (l *local) Run(ctx context.Context, argv []string, opts RunOptions) (RunResult, error) {
	if len(argv) == 0 || argv[0] == "" {
		return RunResult{}, fmt.Errorf("host %q: run: no command given", l.name)
	}
	prog, dir := argv[0], opts.Dir
	env := append(os.Environ(), opts.Env...)
	if l.root != "" {
		// A rooted host stands for a machine: without its folder (a
		// mistyped root, a share not mounted) that machine is not there,
		// and running on this one instead would act in its place.
		if fi, err := os.Stat(l.root); err != nil || !fi.IsDir() {
			why := "is not a folder"
			switch {
			case errors.Is(err, os.ErrNotExist):
				why = "does not exist"
			case err != nil:
				why = "cannot be read (" + errors.Unwrap(err).Error() + ")"
			}
			return RunResult{ExitCode: -1}, fmt.Errorf("host %q cannot be reached: its root folder %s %s. Create or mount the folder, or correct the host's root", l.name, l.root, why)
		}
		var err error
		if prog, err = l.rootedProgram(prog); err != nil {
			return RunResult{}, err
		}
		if dir != "" {
			if dir, err = l.rootedDir(dir); err != nil {
				return RunResult{}, err
			}
		}
		env = append(env, "DROVER_HOST_ROOT="+l.root)
	}
	if !strings.ContainsRune(prog, filepath.Separator) {
		if file, ok := lookPath(prog); ok {
			prog = file
		}
	}
	cmd := exec.CommandContext(ctx, prog, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
	cmd.WaitDelay = waitDelay
	setProcessGroup(cmd)
	err := cmd.Start()
	if err == nil {
		awaitExit(cmd)
		err = cmd.Wait()
	}
	if ctx.Err() != nil {
		return RunResult{ExitCode: -1}, fmt.Errorf("host %q: run %s: %w", l.name, argv[0], context.Cause(ctx))
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return RunResult{}, nil
	case errors.As(err, &exit):
		return RunResult{ExitCode: exit.ExitCode()}, nil
	default:
		return RunResult{ExitCode: -1}, fmt.Errorf("host %q: run %s: %w", l.name, argv[0], err)
	}
}

// rootedProgram finds an absolute program path below the root, falling back
// to the machine's own program of that path.
func (l *local) rootedProgram(prog string) (string, error) {
	if !filepath.IsAbs(prog) {
		return prog, nil
	}
	fsys, name, err := l.resolve("run", prog)
	if err != nil {
		return "", err
	}
	if _, err := fsys.Stat(name); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return prog, nil
		}
		return "", l.pathErr("run", prog, err)
	}
	return filepath.Join(l.root, name), nil
}

func (l *local) rootedDir(dir string) (string, error) {
	fsys, name, err := l.resolve("chdir", dir)
	if err != nil {
		return "", err
	}
	fi, err := fsys.Stat(name)
	if err != nil {
		return "", l.pathErr("chdir", dir, err)
	}
	if !fi.IsDir() {
		return "", l.pathErr("chdir", dir, errors.New("not a folder"))
	}
	return filepath.Join(l.root, name), nil
}
