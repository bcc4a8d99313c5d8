package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"sort"
	"sync"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

func runAction(roots *hostRoots) *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Runs a program on a host with its arguments (never through a shell) and waits for it; its output is streamed as progress (unit stdout or stderr) and its exit code is the result. Ending the call kills the program's whole process group.",
			Args: &schema.Block{Attributes: map[string]*schema.Attribute{
				"host": {Type: host.Type, Required: true, Description: "The host to run on."},
				"argv": {Type: cty.List(cty.String), Required: true, Description: "The program and its arguments."},
				"env":  {Type: cty.Map(cty.String), Optional: true, Description: "Environment variables added to the host's."},
				"dir":  {Type: cty.String, Optional: true, Description: "The working folder on the host."},
			}},
			Result: cty.Object(map[string]cty.Type{"exit_code": cty.Number}),
		},
		Invoke: func(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
			return invokeRun(ctx, roots, req)
		},
	}
}

func invokeRun(ctx context.Context, roots *hostRoots, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
	args := req.Args
	h, err := roots.open(ctx, args.GetAttr("host"))
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s", err)}
	}
	defer h.Close()
	var argv []string
	for _, a := range args.GetAttr("argv").AsValueSlice() {
		argv = append(argv, a.AsString())
	}
	var opts host.RunOptions
	if env := args.GetAttr("env"); !env.IsNull() {
		m := env.AsValueMap()
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			opts.Env = append(opts.Env, n+"="+m[n].AsString())
		}
	}
	if dir := args.GetAttr("dir"); !dir.IsNull() {
		opts.Dir = dir.AsString()
	}
	if opts.Stdin, err = devNull(); err != nil {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot run the command", "%s", err)}
	}
	opts.Stdout = &progressWriter{req.Progress, providers.StdoutUnit}
	opts.Stderr = &progressWriter{req.Progress, providers.StderrUnit}
	res, err := h.Run(ctx, argv, opts)
	if err != nil {
		detail := err.Error()
		switch {
		case ctx.Err() != nil:
			detail += ". The command was stopped and its process group killed."
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound):
			detail += fmt.Sprintf(". Check that %s exists on host %q (a host rooted at a folder looks below its root).", argv[0], h.Name())
		case errors.Is(err, fs.ErrPermission):
			detail += fmt.Sprintf(". Make %s executable on host %q (chmod +x).", argv[0], h.Name())
		}
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot run the command", "%s", detail)}
	}
	if res.ExitCode == 0 {
		return exitedZero(), nil
	}
	return exitResult(res.ExitCode), nil
}

func exitResult(code int) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"exit_code": cty.NumberIntVal(int64(code))})
}

// exitedZero is the result of most runs, made once: an object value
// normalises its attribute names and builds its type as it is made (4%
// of the provider's CPU in a runbook's step).
var exitedZero = sync.OnceValue(func() cty.Value { return exitResult(0) })

// devNull is the standard input of the commands run: the null device,
// opened once and shared (os/exec would open it again for each command).
var devNull = sync.OnceValues(func() (*os.File, error) { return os.Open(os.DevNull) })

// progressWriter streams what a command writes as progress messages; the
// caller gets every chunk, in order. It is passed by pointer: os/exec
// compares Stdout with Stderr, and comparing two values holding a func
// panics, which it recovers from (2% of the plugin's CPU in a runbook).
type progressWriter struct {
	report func(providers.Progress)
	unit   string
}

func (w *progressWriter) Write(p []byte) (int, error) {
	w.report(providers.Progress{Unit: w.unit, Message: string(p)})
	return len(p), nil
}

// copyBuffers are the buffers ReadFrom reads a command's output into. A
// runbook step runs a command per call, most of which say little or
// nothing; without ReadFrom, os/exec's copy would allocate and clear a
// new 32 KiB buffer for each of its two streams, each call.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// ReadFrom reports what r gives until its end, a chunk per read.
func (w *progressWriter) ReadFrom(r io.Reader) (int64, error) {
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	var total int64
	for {
		n, err := r.Read(*bp)
		if n > 0 {
			w.Write((*bp)[:n])
			total += int64(n)
		}
		switch {
		case err == io.EOF:
			return total, nil
		case err != nil:
			return total, err
		}
	}
}

func waitAction() *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Waits for a while, e.g. for services to settle between two runbook steps.",
			Args: &schema.Block{Attributes: map[string]*schema.Attribute{
				"duration": {Type: cty.String, Required: true, Description: "How long, e.g. \"30s\"."},
			}},
			Result: cty.Object(map[string]cty.Type{"seconds": cty.Number}),
		},
		Invoke: func(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
			s := req.Args.GetAttr("duration").AsString()
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 {
				return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("duration"), "Invalid duration",
					"%q is not a duration like \"30s\".", s)}
			}
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return cty.ObjectVal(map[string]cty.Value{"seconds": cty.NumberFloatVal(d.Seconds())}), nil
			case <-ctx.Done():
				return cty.NilVal, providers.Diagnostics{providers.Errorf("Wait stopped", "The wait of %s was stopped before its end.", d)}
			}
		},
	}
}
