package plugin_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/core"
	"github.com/drover-dr/drover/providers/conformance"
	"github.com/drover-dr/drover/providers/plugin"
	"github.com/drover-dr/drover/providers/plugin/spare"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"
)

// The test binary doubles as a provider: started with DROVER_TEST_PLUGIN
// set, it serves the core provider, misbehaving as the variable asks.
func TestMain(m *testing.M) {
	if os.Getenv("DROVER_TEST_SPARE") == "1" {
		becomeSpare()
	}
	if mode := os.Getenv("DROVER_TEST_PLUGIN"); mode != "" {
		p := &misbehaving{Provider: sdk.New(core.New()), mode: mode, stopped: make(chan struct{})}
		if v, err := strconv.Atoi(os.Getenv("DROVER_TEST_PLUGIN_VERSION")); err == nil {
			plugin.ServeVersion(v, p)
			return
		}
		plugin.Serve(p)
		return
	}
	os.Exit(m.Run())
}

// becomeSpare waits as a spare for its orders, and leaves a mark when it
// gets them, in the folder they name.
func becomeSpare() {
	args, err := spare.Receive()
	if err != nil {
		os.Exit(1)
	}
	if len(args) > 0 {
		os.WriteFile("spare-became-plugin", nil, 0o644)
	}
}

// misbehaving wraps a real provider and breaks its Apply on request.
type misbehaving struct {
	providers.Provider
	mode     string
	stopped  chan struct{} // closed by Stop
	stopOnce sync.Once
}

func (m *misbehaving) Stop(ctx context.Context, req providers.StopRequest) providers.StopResponse {
	m.stopOnce.Do(func() { close(m.stopped) })
	return m.Provider.Stop(ctx, req)
}

// Invoke crashes as Apply does, or freezes the process, and Invoke of wait, in mode
// until-released, waits as Apply does there, its duration standing for
// the input.
func (m *misbehaving) Invoke(ctx context.Context, req providers.InvokeRequest) providers.InvokeResponse {
	switch m.mode {
	case "crash":
		os.Exit(3)
	case "freeze":
		// The whole process stops, reading nothing more; its pid is in
		// DROVER_TEST_MARKS, for the test to kill it.
		os.WriteFile(filepath.Join(os.Getenv("DROVER_TEST_MARKS"), "frozen"), []byte(strconv.Itoa(os.Getpid())), 0o644)
		syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	}
	if (m.mode == "until-released" || m.mode == "slow-to-end") && req.Action == "wait" {
		if d := m.untilReleased(ctx, req.Args.GetAttr("duration").AsString()); d != nil {
			return providers.InvokeResponse{Diagnostics: d}
		}
	}
	return m.Provider.Invoke(ctx, req)
}

// untilReleased runs until the test releases it (a file release-NAME in
// DROVER_TEST_MARKS), marking running-NAME there; its context ending or
// Stop first makes it mark ended-NAME and fail, in mode slow-to-end 200
// ms later (as a command killed is waited for).
func (m *misbehaving) untilReleased(ctx context.Context, name string) providers.Diagnostics {
	marks := os.Getenv("DROVER_TEST_MARKS")
	os.WriteFile(filepath.Join(marks, "running-"+name), nil, 0o644)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
		case <-m.stopped:
		case <-tick.C:
			if _, err := os.Stat(filepath.Join(marks, "release-"+name)); err == nil {
				return nil
			}
			continue
		}
		if m.mode == "slow-to-end" {
			time.Sleep(200 * time.Millisecond)
		}
		os.WriteFile(filepath.Join(marks, "ended-"+name), nil, 0o644)
		return providers.Diagnostics{providers.Errorf("Stopped", "%s ended before its release.", name)}
	}
}

func (m *misbehaving) Apply(ctx context.Context, req providers.ApplyRequest) providers.ApplyResponse {
	switch m.mode {
	case "crash":
		os.Exit(3)
	case "hang":
		select {}
	case "until-stopped":
		// Marks in DROVER_TEST_MARKS that it runs (with the pid) and,
		// once Stop is called, that it finished.
		marks := os.Getenv("DROVER_TEST_MARKS")
		os.WriteFile(filepath.Join(marks, "running"), []byte(strconv.Itoa(os.Getpid())), 0o644)
		<-m.stopped
		os.WriteFile(filepath.Join(marks, "finished"), nil, 0o644)
	case "until-released":
		if d := m.untilReleased(ctx, req.Config.GetAttr("input").AsString()); d != nil {
			return providers.ApplyResponse{Diagnostics: d}
		}
	case "panic":
		panic("provider bug")
	case "progress":
		for i := int64(1); i <= 3; i++ {
			req.Progress(providers.Progress{Done: i, Total: 3, Unit: "blocks"})
		}
	}
	return m.Provider.Apply(ctx, req)
}

func factory(t testing.TB, mode string, env ...string) providers.Factory {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return plugin.Factory("core", func() *exec.Cmd {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), append([]string{"DROVER_TEST_PLUGIN=" + mode}, env...)...)
		return cmd
	}, hclog.NewNullLogger())
}

func TestConformanceThroughPlugin(t *testing.T) {
	fs1 := host.Config{Name: "fs1", Root: t.TempDir()}.Value()
	conformance.Run(t, factory(t, "ok"), []conformance.Case{
		{
			TypeName: "value",
			Config:   cty.ObjectVal(map[string]cty.Value{"input": cty.StringVal("a"), "triggers_replace": cty.NullVal(cty.DynamicPseudoType)}),
			Update:   cty.ObjectVal(map[string]cty.Value{"input": cty.ListVal([]cty.Value{cty.StringVal("b")}), "triggers_replace": cty.NullVal(cty.DynamicPseudoType)}),
		},
		{
			TypeName: "file",
			Config: cty.ObjectVal(map[string]cty.Value{"host": fs1, "path": cty.StringVal("/etc/motd"),
				"content": cty.StringVal("hello\n"), "mode": cty.StringVal("0644")}),
			Update: cty.ObjectVal(map[string]cty.Value{"host": fs1, "path": cty.StringVal("/etc/motd"),
				"content": cty.StringVal("bye\n"), "mode": cty.StringVal("0600")}),
			External: true,
		},
	})
}

func valueCreate(t *testing.T, p providers.Provider) providers.ApplyRequest {
	t.Helper()
	return valueCreateOf(t, p, "x")
}

// valueCreateOf is the Apply that creates a value resource of input.
func valueCreateOf(t *testing.T, p providers.Provider, input string) providers.ApplyRequest {
	t.Helper()
	ctx := context.Background()
	sr := p.Schema(ctx, providers.SchemaRequest{})
	if sr.Diagnostics.HasErrors() {
		t.Fatal(sr.Diagnostics)
	}
	block := sr.Schema.ResourceTypes["value"].Block
	cfg := cty.ObjectVal(map[string]cty.Value{"input": cty.StringVal(input), "triggers_replace": cty.NullVal(cty.DynamicPseudoType)})
	prior := cty.NullVal(block.ImpliedType())
	pr := p.Plan(ctx, providers.PlanRequest{TypeName: "value", Prior: prior, Proposed: block.ProposedNew(prior, cfg), Config: cfg})
	if pr.Diagnostics.HasErrors() {
		t.Fatal(pr.Diagnostics)
	}
	if !pr.Planned.GetAttr("id").IsKnown() == false {
		t.Fatal("id should be unknown at plan time")
	}
	return providers.ApplyRequest{TypeName: "value", Prior: prior, Planned: pr.Planned, Config: cfg}
}

func TestMisbehavingProviders(t *testing.T) {
	tests := []struct {
		mode    string
		timeout time.Duration
		summary string
	}{
		{mode: "crash", summary: `Provider "core" crashed`},
		{mode: "hang", timeout: 300 * time.Millisecond, summary: `Provider "core" did not answer in time`},
		{mode: "panic", summary: "Provider panicked"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			p, err := factory(t, tt.mode)()
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			req := valueCreate(t, p)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			resp := p.Apply(ctx, req)
			if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != tt.summary {
				t.Fatalf("diagnostics = %+v, want %q", resp.Diagnostics, tt.summary)
			}
		})
	}
}

// TestInvokeCrash: the calls on the stream of invocations fail when the
// plugin dies under them, and say so.
func TestInvokeCrash(t *testing.T) {
	p, err := factory(t, "crash")()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	args := cty.ObjectVal(map[string]cty.Value{"duration": cty.StringVal("0s")})
	resp := p.Invoke(context.Background(), providers.InvokeRequest{Action: "wait", Args: args})
	if want := `Provider "core" crashed`; !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != want {
		t.Fatalf("diagnostics = %+v, want %q", resp.Diagnostics, want)
	}
}

// TestInvokeFrozenPlugin: calls to a plugin process that reads nothing
// more (stopped) still end with their contexts, however many there are
// (their requests would fill the connection's window).
func TestInvokeFrozenPlugin(t *testing.T) {
	marks := t.TempDir()
	p, err := factory(t, "freeze", "DROVER_TEST_MARKS="+marks)()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	invoke := func(duration string) providers.Diagnostics {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		args := cty.ObjectVal(map[string]cty.Value{"duration": cty.StringVal(duration)})
		return p.Invoke(ctx, providers.InvokeRequest{Action: "wait", Args: args}).Diagnostics
	}
	invoke("0s")
	pid := waitMark(t, marks, "frozen")
	defer syscall.Kill(pid, syscall.SIGKILL)
	done := make(chan providers.Diagnostics, 1)
	go func() {
		var last providers.Diagnostics
		for range 100 {
			last = invoke(strings.Repeat("9", 4<<10) + "s")
		}
		done <- last
	}()
	select {
	case d := <-done:
		if want := `Provider "core" did not answer in time`; !d.HasErrors() || d[0].Summary != want {
			t.Fatalf("diagnostics = %+v, want %q", d, want)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("calls to a frozen plugin did not end with their contexts")
	}
}

func TestProgressStreams(t *testing.T) {
	p, err := factory(t, "progress")()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	req := valueCreate(t, p)
	var got []int64
	req.Progress = func(pr providers.Progress) { got = append(got, pr.Done) }
	resp := p.Apply(context.Background(), req)
	if resp.Diagnostics.HasErrors() {
		t.Fatal(resp.Diagnostics)
	}
	if len(got) != 3 || got[2] != 3 {
		t.Fatalf("progress events %v, want 1 2 3", got)
	}
	if !resp.New.GetAttr("output").RawEquals(cty.StringVal("x")) || !resp.New.GetAttr("id").IsKnown() {
		t.Fatalf("applied value %#v", resp.New)
	}
}

func TestVersionMismatch(t *testing.T) {
	_, err := factory(t, "ok", "DROVER_TEST_PLUGIN_VERSION=2")()
	if err == nil {
		t.Fatal("a provider of protocol version 2 must be refused")
	}
	for _, want := range []string{"version 2", "version 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %q", err, want)
		}
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	p, err := factory(b, "ok")()
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	sr := p.Schema(ctx, providers.SchemaRequest{})
	block := sr.Schema.ResourceTypes["value"].Block
	cfg := cty.ObjectVal(map[string]cty.Value{"input": cty.StringVal("x"), "triggers_replace": cty.NullVal(cty.DynamicPseudoType)})
	prior := cty.NullVal(block.ImpliedType())
	proposed := block.ProposedNew(prior, cfg)
	b.Run("plan", func(b *testing.B) {
		b.SetParallelism(5)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if r := p.Plan(ctx, providers.PlanRequest{TypeName: "value", Prior: prior, Proposed: proposed, Config: cfg}); r.Diagnostics.HasErrors() {
					b.Fatal(r.Diagnostics)
				}
			}
		})
	})
	// An action that does nothing: what a runbook step costs in the
	// protocol alone.
	b.Run("invoke", func(b *testing.B) {
		args := cty.ObjectVal(map[string]cty.Value{"duration": cty.StringVal("0s")})
		b.SetParallelism(5)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if r := p.Invoke(ctx, providers.InvokeRequest{Action: "wait", Args: args}); r.Diagnostics.HasErrors() {
					b.Fatal(r.Diagnostics)
				}
			}
		})
	})
	pr := p.Plan(ctx, providers.PlanRequest{TypeName: "value", Prior: prior, Proposed: proposed, Config: cfg})
	b.Run("apply", func(b *testing.B) {
		b.SetParallelism(5)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if r := p.Apply(ctx, providers.ApplyRequest{TypeName: "value", Prior: prior, Planned: pr.Planned, Config: cfg}); r.Diagnostics.HasErrors() {
					b.Fatal(r.Diagnostics)
				}
			}
		})
	})
}
