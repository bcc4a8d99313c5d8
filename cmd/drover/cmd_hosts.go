package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/hostcheck"
	"github.com/drover-dr/drover/host/ssh"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

// hostKeyOptions is the flag of every command that connects to hosts
// before it plans or checks.
type hostKeyOptions struct {
	trustNewHostKeys bool
}

func (o *hostKeyOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.trustNewHostKeys, "trust-new-host-keys", false,
		"record the host key of an SSH host known_hosts does not know yet (each one recorded is printed); a changed key is refused all the same")
}

type hostsCheckOptions struct {
	varOptions
	hostKeyOptions
}

func newHostsCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hosts",
		Short: "Check the hosts of the configuration",
	}
	o := &hostsCheckOptions{}
	check := &cobra.Command{
		Use:   "check",
		Short: "Connect to every host and check what providers need there",
		Long: `For each host of the configuration: whether it is reachable, its host key the one
known, the login accepted, and whether files can be written below its root, commands
run, and as the superuser. Nothing is left on the hosts but a root folder that was
missing. Exits 1 when a host cannot be used.

` + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runHostsCheck(cmd.Context(), g, o) },
	}
	o.varOptions.addFlags(check)
	o.hostKeyOptions.addFlags(check)
	cmd.AddCommand(check)
	return cmd
}

func runHostsCheck(ctx context.Context, g *globalOptions, o *hostsCheckOptions) error {
	v := g.newView()
	cfg, err := loadConfig(v)
	if err != nil {
		return err
	}
	vars, err := o.variables(v, cfg)
	if err != nil {
		return err
	}
	return checkHosts(ctx, v, cfg, vars, o.trustNewHostKeys)
}

// checkHosts checks every host with its privileges and shows the table.
func checkHosts(ctx context.Context, v *view, cfg *lang.Config, vars map[string]cty.Value, trust bool) error {
	configs, err := hostConfigs(v, cfg, vars, false)
	if err != nil {
		return err
	}
	results := hostcheck.Check(ctx, configs, hostcheck.Options{TrustNewHostKeys: trust, Privileges: true})
	showRecordedKeys(v, results)
	showHostChecks(v, results)
	for _, r := range results {
		if r.Err != nil {
			return errReported
		}
	}
	return nil
}

// verifyHosts reaches every host of the configuration that lives on
// another machine, once, before anything is planned: an unknown or changed
// host key or a refused login stops the run with nothing done on any host.
// An unreachable machine is a warning: the day a failover is needed, the
// source is the machine that is down, and what acts on it fails on its
// own (a step's on_failure, a refresh that cannot read it). Providers,
// which connect from their own processes, verify host keys strictly.
// The check runs in the background: the caller does what acts on no host
// meanwhile, then calls verified, which waits for the check, shows what
// it found and fails as the check did.
func verifyHosts(ctx context.Context, v *view, cfg *lang.Config, vars map[string]cty.Value, trust bool) (verified func() error, err error) {
	configs, err := hostConfigs(v, cfg, vars, true)
	if err != nil {
		return nil, err
	}
	if len(configs) == 0 {
		return func() error { return nil }, nil
	}
	done := make(chan []hostcheck.Result, 1)
	go func() { done <- hostcheck.Check(ctx, configs, hostcheck.Options{TrustNewHostKeys: trust}) }()
	return func() error { return showVerified(v, cfg, <-done) }, nil
}

// showVerified shows the recorded keys and the hosts that cannot be used.
func showVerified(v *view, cfg *lang.Config, results []hostcheck.Result) error {
	showRecordedKeys(v, results)
	var diags hcl.Diagnostics
	for _, r := range results {
		if r.Err == nil {
			continue
		}
		d := hostDiagnostic(cfg, r)
		if r.Step("reachable").Status == hostcheck.Failed {
			d.Severity = hcl.DiagWarning
			d.Detail = fmt.Sprintf("%s. What acts on host %q will fail; nothing else waits for it.", r.Err, r.Host.Name)
		}
		diags = append(diags, d)
	}
	return v.fail(diags)
}

// hostConfigs evaluates the configuration's hosts, sorted by name (only
// those on other machines when remote); a host known only at apply is
// left to the provider that reaches it.
func hostConfigs(v *view, cfg *lang.Config, vars map[string]cty.Value, remote bool) ([]host.Config, error) {
	var out []host.Config
	var diags hcl.Diagnostics
	for _, name := range slices.Sorted(maps.Keys(cfg.Hosts)) {
		val, d := planner.Host(cfg, vars, name)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		c, err := host.ConfigFromValue(val)
		if err != nil {
			continue
		}
		if !remote || hostcheck.Remote(c) {
			out = append(out, c)
		}
	}
	if diags.HasErrors() {
		return nil, v.fail(diags)
	}
	return out, nil
}

// hostDiagnostic tells why a host cannot be used, at its block.
func hostDiagnostic(cfg *lang.Config, r hostcheck.Result) *hcl.Diagnostic {
	summary := "Host not reachable"
	switch {
	case r.Step("host_key").Status == hostcheck.Failed:
		var changed *ssh.ChangedHostKeyError
		var revoked *ssh.RevokedHostKeyError
		var closed *ssh.HandshakeClosedError
		switch {
		case errors.As(r.Err, &closed):
			summary = "Connection closed during the SSH handshake"
		case errors.As(r.Err, &changed):
			summary = "Host key changed"
		case errors.As(r.Err, &revoked):
			summary = "Host key revoked"
		default:
			summary = "Unknown host key"
		}
	case r.Step("login").Status == hostcheck.Failed:
		summary = "Login refused"
	}
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
		Detail: fmt.Sprintf("%s. Nothing was planned or done on any host.", r.Err)}
	if h := cfg.Hosts[r.Host.Name]; h != nil {
		d.Subject = h.DeclRange.Ptr()
	}
	return d
}

// showRecordedKeys prints every host key --trust-new-host-keys recorded:
// trusting one is never silent.
func showRecordedKeys(v *view, results []hostcheck.Result) {
	for _, r := range results {
		for _, k := range r.Recorded {
			if v.json {
				v.event("host_key_recorded", map[string]any{"host": r.Host.Name, "address": k.Address,
					"fingerprint": k.Fingerprint, "known_hosts": k.KnownHosts, "line": k.Line})
				continue
			}
			v.printf("Recorded the new host key of host %q (%s, %s) in %s:\n  %s\n", r.Host.Name, k.Address, k.Fingerprint, k.KnownHosts, k.Line)
		}
	}
}

// showHostChecks renders the results as a table and the reasons of every
// failed step, or as one host_check event per host.
func showHostChecks(v *view, results []hostcheck.Result) {
	if v.json {
		for _, r := range results {
			steps, failures := map[string]string{}, map[string]string{}
			for _, s := range r.Steps {
				steps[s.Name] = s.Status.String()
				if s.Status == hostcheck.Failed {
					failures[s.Name] = s.Detail
				}
			}
			v.event("host_check", map[string]any{"host": r.Host.Name, "transport": r.Host.EffectiveTransport(),
				"address": r.Host.Address, "root": r.Host.Root, "usable": r.Err == nil, "steps": steps, "failures": failures})
		}
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	tw := tabwriter.NewWriter(v.out, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "HOST\tADDRESS")
	for _, s := range hostcheck.Steps {
		fmt.Fprintf(tw, "\t%s", strings.ToUpper(strings.ReplaceAll(s, "_", " ")))
	}
	fmt.Fprintln(tw)
	for _, r := range results {
		addr := r.Host.Address
		if addr == "" {
			addr = "local"
		}
		if r.Host.Port != 0 {
			addr = fmt.Sprintf("%s port %d", addr, r.Host.Port)
		}
		fmt.Fprintf(tw, "%s\t%s", r.Host.Name, addr)
		for _, s := range r.Steps {
			fmt.Fprintf(tw, "\t%s", s.Status)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, r := range results {
		for _, s := range r.Steps {
			if s.Status != hostcheck.Failed {
				continue
			}
			// The detail names the host.
			fmt.Fprintf(v.out, "\n%s failed: %s\n", s.Name, s.Detail)
			if need := hostcheck.Needs[s.Name]; need != "" {
				fmt.Fprintf(v.out, "  needed by: %s\n", need)
			}
		}
	}
}
