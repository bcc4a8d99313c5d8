package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Ad-hoc commands (restore, diff, verify, replicate, registry import…) do
// provider work outside plan and apply. The work still runs inside the
// provider's plugin process, as one of its actions: the command only
// gathers arguments, invokes, and renders progress and the result.

// invokeAction runs action of provider with args (missing arguments are
// null) and returns its result. label names the work in progress output,
// e.g. the resource address it is about. Progress is a bar on a terminal,
// a plain line when its message changes otherwise, and action_progress
// events with --json.
//
// When ctx ends (Ctrl-C, SIGTERM) the provider is asked to stop and the
// call waits for the action to return, so that it can leave everything
// whole; a second signal exits at once.
func invokeAction(ctx context.Context, v *view, reg *providers.Registry, label, provider, action string, args map[string]cty.Value) (cty.Value, error) {
	p, s, err := reg.Get(ctx, provider)
	if err != nil {
		return cty.NilVal, err
	}
	as, ok := s.Actions[action]
	if !ok {
		return cty.NilVal, fmt.Errorf("provider %q has no action %q; `drover providers` lists what each provider serves", provider, action)
	}
	argv := cty.EmptyObjectVal
	if as.Args != nil {
		argv, err = actionArgs(as.Args.ImpliedType(), args)
		if err != nil {
			return cty.NilVal, fmt.Errorf("arguments of %s.%s: %w", provider, action, err)
		}
	}

	out := newActionProgress(v, label)
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.Stop(sctx, providers.StopRequest{})
	})
	resp := p.Invoke(context.WithoutCancel(ctx), providers.InvokeRequest{Action: action, Args: argv, Progress: out.report})
	stop()
	out.finish(resp.Diagnostics.HasErrors())

	var diags hcl.Diagnostics
	for _, d := range resp.Diagnostics {
		sev := hcl.DiagError
		if d.Severity == providers.Warning {
			sev = hcl.DiagWarning
		}
		detail := d.Detail
		if detail != "" {
			detail += "\n\n"
		}
		detail += fmt.Sprintf("(from provider %q, action %s for %s)", provider, action, label)
		diags = append(diags, &hcl.Diagnostic{Severity: sev, Summary: d.Summary, Detail: detail})
	}
	if err := v.fail(diags); err != nil {
		return cty.NilVal, err
	}
	return resp.Result, nil
}

// actionArgs builds the argument object of type ty from args, leaving
// unnamed attributes null and converting each value to its attribute type.
func actionArgs(ty cty.Type, args map[string]cty.Value) (cty.Value, error) {
	attrs := make(map[string]cty.Value, len(ty.AttributeTypes()))
	for name, aty := range ty.AttributeTypes() {
		a, ok := args[name]
		if !ok {
			attrs[name] = cty.NullVal(aty)
			continue
		}
		c, err := convert.Convert(a, aty)
		if err != nil {
			return cty.NilVal, fmt.Errorf("%s: %w", name, err)
		}
		attrs[name] = c
	}
	for name := range args {
		if _, ok := attrs[name]; !ok {
			return cty.NilVal, fmt.Errorf("the action takes no argument %q", name)
		}
	}
	return cty.ObjectVal(attrs), nil
}

// actionProgress renders the progress of one action.
type actionProgress struct {
	v     *view
	label string
	bars  *progressBars // nil unless on a terminal

	mu   sync.Mutex
	last string
}

func newActionProgress(v *view, label string) *actionProgress {
	a := &actionProgress{v: v, label: label}
	if v.terminal {
		a.bars = newProgressBars(v)
	}
	return a
}

func (a *actionProgress) report(p providers.Progress) {
	switch {
	case a.v.json:
		a.v.event("action_progress", map[string]any{"label": a.label, "done": p.Done, "total": p.Total,
			"unit": p.Unit, "message": p.Message})
	case a.bars != nil:
		a.bars.update(a.label, p)
		if p.Message != "" && a.changed(p.Message) {
			a.bars.printf(a.v.out, "%s: %s\n", a.label, p.Message)
		}
	case p.Message != "" && a.changed(p.Message):
		a.v.printf("%s: %s\n", a.label, p.Message)
	}
}

// changed reports whether msg differs from the last message shown.
func (a *actionProgress) changed(msg string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if msg == a.last {
		return false
	}
	a.last = msg
	return true
}

func (a *actionProgress) finish(failed bool) {
	if a.bars != nil {
		a.bars.finish(a.label, failed)
		a.bars.wait()
	}
}

// stateInstance reads the state of the working folder (without locking it)
// and returns the resource instance at addr.
func stateInstance(ctx context.Context, v *view, addr string) (*state.Instance, error) {
	a, err := addrs.ParseInstance(addr)
	if err != nil {
		return nil, err
	}
	b, err := backend(v, quietConfig())
	if err != nil {
		return nil, err
	}
	s, err := readState(ctx, b)
	if err != nil {
		return nil, err
	}
	inst := s.Instance(a)
	if inst == nil {
		return nil, fmt.Errorf("%s is not in the state: apply it first, or run `drover state list` to see what is", a)
	}
	return inst, nil
}
