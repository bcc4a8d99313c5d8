package disk

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

func bootSetDefaultAction() *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Makes a boot entry the default of a host's boot menu; the result names the previous default, to switch back.",
			Args:        &schema.Block{Attributes: entryAttrs()},
			Result:      cty.Object(map[string]cty.Type{"entry": cty.String, "previous": cty.String}),
		},
		Invoke: func(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
			return switchEntry(ctx, req, false)
		},
	}
}

func bootSetNextAction() *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Makes a boot entry boot once, at the next boot (GRUB, BCD, EFI).",
			Args:        &schema.Block{Attributes: entryAttrs()},
			Result:      cty.Object(map[string]cty.Type{"entry": cty.String, "previous": cty.String}),
		},
		Invoke: func(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
			return switchEntry(ctx, req, true)
		},
	}
}

func switchEntry(ctx context.Context, req sdk.InvokeRequest, once bool) (cty.Value, providers.Diagnostics) {
	v := req.Args
	if diags := validateEntry(v); diags.HasErrors() {
		return cty.NilVal, diags
	}
	h, diags := openEntryHost(v)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	s, err := openBootStore(ctx, h, str(v, "loader"), str(v, "file"))
	if err != nil {
		return cty.NilVal, errDiag("file", "Cannot read the boot menu", err)
	}
	defer s.close()
	id, err := s.resolve(str(v, "path"), str(v, "label"))
	if err != nil {
		return cty.NilVal, errDiag("", "No such boot entry", err)
	}
	previous, err := s.current()
	if err != nil {
		return cty.NilVal, errDiag("", "Cannot read the boot menu", err)
	}
	if once {
		err = s.setNext(id)
	} else {
		err = s.setDefault(id)
	}
	if err != nil {
		return cty.NilVal, errDiag("", "Cannot switch the boot entry", err)
	}
	req.Progress(providers.Progress{Message: fmt.Sprintf("writing %s", s.file)})
	if err := s.save(ctx); err != nil {
		return cty.NilVal, errDiag("", "Cannot write the boot menu", err)
	}
	return cty.ObjectVal(map[string]cty.Value{"entry": cty.StringVal(id), "previous": cty.StringVal(previous)}), nil
}

func rebootAction() *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Reboots a host and waits until it has booted again: the probe command answers with another output than before the reboot (by default the Linux boot ID).",
			Args: &schema.Block{Attributes: map[string]*schema.Attribute{
				"host": {Type: host.Type, Required: true, Description: "The host to reboot."},
				"command": {Type: cty.List(cty.String), Optional: true,
					Description: "The argv that reboots the host; [\"shutdown\", \"-r\", \"now\"] when not set (Windows hosts: [\"shutdown\", \"/r\", \"/t\", \"0\"])."},
				"probe": {Type: cty.List(cty.String), Optional: true,
					Description: "An argv whose output changes with every boot; [\"cat\", \"/proc/sys/kernel/random/boot_id\"] when not set."},
				"timeout":  {Type: cty.String, Optional: true, Description: "How long to wait for the host to come back, e.g. \"10m\" (the default)."},
				"interval": {Type: cty.String, Optional: true, Description: "How often to probe, e.g. \"5s\" (the default)."},
			}},
			Result: cty.Object(map[string]cty.Type{"seconds": cty.Number}),
		},
		Invoke: invokeReboot,
	}
}

func argv(v cty.Value, name string, def []string) []string {
	a := v.GetAttr(name)
	if a.IsNull() || !a.IsKnown() || a.LengthInt() == 0 {
		return def
	}
	var out []string
	for _, s := range a.AsValueSlice() {
		out = append(out, s.AsString())
	}
	return out
}

func duration(v cty.Value, name string, def time.Duration) (time.Duration, error) {
	s := str(v, name)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q is not a duration like \"10m\" or \"5s\"", name, s)
	}
	return d, nil
}

// probe runs argv and returns its output; ok is false when the host does
// not answer (the command cannot run or fails).
func probe(ctx context.Context, h host.Host, argv []string) (string, bool) {
	var out bytes.Buffer
	res, err := h.Run(ctx, argv, host.RunOptions{Stdout: &out})
	if err != nil || res.ExitCode != 0 {
		return "", false
	}
	return strings.TrimSpace(out.String()), true
}

func invokeReboot(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
	v := req.Args
	h, diags := openEntryHost(v)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	timeout, err := duration(v, "timeout", 10*time.Minute)
	if err != nil {
		return cty.NilVal, errDiag("timeout", "Invalid timeout", err)
	}
	interval, err := duration(v, "interval", 5*time.Second)
	if err != nil {
		return cty.NilVal, errDiag("interval", "Invalid interval", err)
	}
	probeArgv := argv(v, "probe", []string{"cat", "/proc/sys/kernel/random/boot_id"})
	before, ok := probe(ctx, h, probeArgv)
	if !ok {
		return cty.NilVal, errDiag("probe", "Host does not answer", fmt.Errorf("the probe %q fails on host %q before the reboot; fix the probe or the host first", probeArgv, h.Name()))
	}
	command := argv(v, "command", []string{"shutdown", "-r", "now"})
	start := time.Now()
	req.Progress(providers.Progress{Message: fmt.Sprintf("rebooting %s: %s", h.Name(), strings.Join(command, " "))})
	res, err := h.Run(ctx, command, host.RunOptions{})
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("%q exited with status %d", command, res.ExitCode)
	}
	if err != nil {
		return cty.NilVal, errDiag("command", "Reboot failed", err)
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return cty.NilVal, errDiag("", "Reboot interrupted", fmt.Errorf("stopped waiting for host %q to come back: %w", h.Name(), ctx.Err()))
		case <-deadline.C:
			return cty.NilVal, errDiag("timeout", "Host did not come back", fmt.Errorf("host %q has not booted again %s after %q (the probe %q still answers as before, or not at all); check its console", h.Name(), timeout, command, probeArgv))
		case <-tick.C:
		}
		elapsed := time.Since(start)
		req.Progress(providers.Progress{Done: int64(elapsed.Seconds()), Total: int64(timeout.Seconds()), Unit: "s",
			Message: fmt.Sprintf("waiting for %s to come back", h.Name())})
		if after, ok := probe(ctx, h, probeArgv); ok && after != before {
			return cty.ObjectVal(map[string]cty.Value{"seconds": cty.NumberFloatVal(elapsed.Seconds())}), nil
		}
	}
}
