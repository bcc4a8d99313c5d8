package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/drover-dr/drover/state"
	"github.com/drover-dr/drover/state/local"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// registry serves the built-in core provider in-process; the plugin path
// is covered by the CLI's end-to-end tests.
func registry() *providers.Registry {
	return providers.NewRegistry(providers.Entry{
		Name:    "core",
		Factory: func() (providers.Provider, error) { return sdk.New(builtin.Provider("core")), nil },
		Types:   []string{"file", "value"},
	})
}

type engine struct {
	t     testing.TB
	dir   string
	reg   *providers.Registry
	state *state.State
}

func newEngine(t testing.TB) *engine {
	reg := registry()
	t.Cleanup(func() { reg.Close() })
	return &engine{t: t, dir: t.TempDir(), reg: reg, state: state.New()}
}

func (e *engine) write(src string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, "main.dr.hcl"), []byte(src), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *engine) plan(opts planner.Options) (*plan.Plan, *lang.Config, hcl.Diagnostics) {
	e.t.Helper()
	cfg, diags := lang.LoadDir(e.dir)
	if diags.HasErrors() {
		return nil, cfg, diags
	}
	vars, d := lang.FinalizeVariables(cfg, opts.Variables)
	if d.HasErrors() {
		return nil, cfg, d
	}
	opts.Variables = vars
	opts.Providers = e.reg
	p, d := planner.Plan(context.Background(), cfg, e.state, opts)
	return p, cfg, append(diags, d...)
}

// actions renders a plan's changes as "ADDR ACTION" lines.
func actions(p *plan.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		if c.Action != plan.NoOp {
			out = append(out, c.Addr.String()+" "+c.Action.String())
		}
	}
	sort.Strings(out)
	return out
}

// apply plans and applies src, failing the test on any error.
func (e *engine) apply(src string, opts planner.Options) *plan.Plan {
	e.t.Helper()
	e.write(src)
	p, cfg, diags := e.plan(opts)
	if diags.HasErrors() {
		e.t.Fatalf("plan: %s", diags.Error())
	}
	opts.Providers = e.reg
	opts.Variables = p.Variables
	s, diags := Apply(context.Background(), p, e.state, Options{Providers: e.reg, Finalizer: planner.NewFinalizer(cfg, opts)})
	if diags.HasErrors() {
		e.t.Fatalf("apply: %s", diags.Error())
	}
	e.state = s
	return p
}

func TestEngineLifecycle(t *testing.T) {
	steps := []struct {
		name string
		src  string
		opts planner.Options
		want []string
	}{
		{
			name: "create",
			src: `
host "fs1" { root = "sim/fs1" }
resource "value" "a" { input = "one" }
resource "value" "b" { input = value.a.output }
resource "file" "f" {
  host    = host.fs1
  path    = "/etc/dr.conf"
  content = "peer=${value.b.output}\n"
}`,
			want: []string{"file.f +", "value.a +", "value.b +"},
		},
		{
			name: "no changes",
			src: `
host "fs1" { root = "sim/fs1" }
resource "value" "a" { input = "one" }
resource "value" "b" { input = value.a.output }
resource "file" "f" {
  host    = host.fs1
  path    = "/etc/dr.conf"
  content = "peer=${value.b.output}\n"
}`,
		},
		{
			name: "update flows through references",
			src: `
host "fs1" { root = "sim/fs1" }
resource "value" "a" { input = "two" }
resource "value" "b" { input = value.a.output }
resource "file" "f" {
  host    = host.fs1
  path    = "/etc/dr.conf"
  content = "peer=${value.b.output}\n"
}`,
			want: []string{"file.f ~", "value.a ~", "value.b ~"},
		},
		{
			name: "replace by trigger, delete removed",
			src: `
resource "value" "a" {
  input            = "two"
  triggers_replace = 1
}`,
			want: []string{"file.f -", "value.a -/+", "value.b -"},
		},
		{
			name: "count grows",
			src: `
resource "value" "a" {
  input            = "two"
  triggers_replace = 1
}
resource "value" "n" {
  count = 3
  input = "n${count.index}"
}`,
			want: []string{"value.n[0] +", "value.n[1] +", "value.n[2] +"},
		},
		{
			name: "count shrinks",
			src: `
resource "value" "a" {
  input            = "two"
  triggers_replace = 1
}
resource "value" "n" {
  count = 1
  input = "n${count.index}"
}`,
			want: []string{"value.n[1] -", "value.n[2] -"},
		},
	}
	e := newEngine(t)
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			e.t = t
			p := e.apply(st.src, st.opts)
			if diff := cmp.Diff(st.want, actions(p)); diff != "" {
				t.Fatalf("actions (-want +got):\n%s", diff)
			}
			again, _, diags := e.plan(st.opts)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if got := actions(again); len(got) != 0 {
				t.Fatalf("plan after apply is not empty: %v", got)
			}
		})
	}
	if got, err := os.ReadFile(filepath.Join(e.dir, "sim/fs1/etc/dr.conf")); err == nil {
		t.Fatalf("file resource not deleted: %q", got)
	}
}

func TestEngineUnknownUntilApply(t *testing.T) {
	e := newEngine(t)
	e.write(`
resource "value" "a" { input = "x" }
resource "value" "b" { input = value.a.id }
output "b" { value = value.b.output }
`)
	p, _, diags := e.plan(planner.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, c := range p.Changes {
		if c.Addr.Name == "b" && (!c.ConfigUnknown || c.After.GetAttr("input").IsKnown()) {
			t.Fatalf("value.b input should be unknown until apply: %#v", c.After)
		}
	}
	e.apply(`
resource "value" "a" { input = "x" }
resource "value" "b" { input = value.a.id }
output "b" { value = value.b.output }
`, planner.Options{})
	a := e.state.Resource(p.Changes[0].Addr.Resource)[0].Attrs.GetAttr("id")
	out := e.state.Outputs["b"].Value
	if !out.RawEquals(a) {
		t.Fatalf("output b = %#v, want value.a.id %#v", out, a)
	}
}

func TestEngineErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		summary string
		detail  string
	}{
		{
			name: "cycle",
			src: `
resource "value" "a" { input = value.b.output }
resource "value" "b" { input = value.a.output }`,
			summary: "Cycle in configuration",
			detail:  "value.a, value.b",
		},
		{
			name:    "undeclared resource",
			src:     `resource "value" "a" { input = value.bb.output }` + "\n" + `resource "value" "b" {}`,
			summary: "Reference to undeclared resource",
			detail:  `Did you mean "value.b"?`,
		},
		{
			name:    "unknown type",
			src:     `resource "vaule" "a" {}`,
			summary: "Unknown resource type",
		},
		{
			name:    "unknown attribute",
			src:     `resource "value" "a" { inptu = 1 }`,
			summary: "Unsupported argument",
			detail:  `"input"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t)
			e.write(tt.src)
			_, _, diags := e.plan(planner.Options{})
			if !diags.HasErrors() {
				t.Fatal("want an error")
			}
			d := diags.Errs()[0].(*hcl.Diagnostic)
			if d.Summary != tt.summary || !strings.Contains(d.Detail, tt.detail) {
				t.Fatalf("got %q: %q", d.Summary, d.Detail)
			}
		})
	}
}

func TestEnginePreventDestroy(t *testing.T) {
	e := newEngine(t)
	e.apply(`
resource "value" "a" {
  input = 1
  lifecycle { prevent_destroy = true }
}`, planner.Options{})
	_, _, diags := e.plan(planner.Options{Mode: plan.Destroy})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "prevent_destroy") {
		t.Fatalf("destroy should be refused: %v", diags)
	}
}

func TestEngineSensitiveVariable(t *testing.T) {
	e := newEngine(t)
	p := e.apply(`
variable "secret" {
  type      = string
  sensitive = true
  default   = "hunter2"
}
resource "value" "a" { input = var.secret }
`, planner.Options{})
	c := p.Changes[0]
	if len(c.SensitivePaths) == 0 {
		t.Fatal("sensitive input not tracked")
	}
	b, err := plan.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter2") {
		t.Fatal("plan document leaks the sensitive value")
	}
	if got := e.state.Resource(c.Addr.Resource)[0].Attrs.GetAttr("input"); !got.RawEquals(cty.StringVal("hunter2")) {
		t.Fatalf("state should keep the value, got %#v", got)
	}
}

// TestEngineTimeouts applies a resource whose provider never finishes on
// its own: the timeouts block bounds the call, the diagnostic names the
// resource, the limit and the provider, and nothing reaches the state.
func TestEngineTimeouts(t *testing.T) {
	slow := &sdk.Provider{Name: "slow", Resources: map[string]*sdk.Resource{
		"slow_thing": {
			Schema: &schema.Resource{Block: &schema.Block{Attributes: map[string]*schema.Attribute{
				"name": {Type: cty.String, Required: true},
			}}},
			Read: func(ctx context.Context, s cty.Value) (cty.Value, providers.Diagnostics) { return s, nil },
			Create: func(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
				<-ctx.Done()
				return cty.NilVal, providers.Diagnostics{providers.Errorf("Stopped", "%s.", ctx.Err())}
			},
			Delete: func(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics { return nil },
		},
	}}
	e := newEngine(t)
	e.reg = providers.NewRegistry(providers.Entry{Name: "slow", Factory: func() (providers.Provider, error) { return sdk.New(slow), nil }})
	e.write(`
resource "slow_thing" "a" {
  name = "a"
  timeouts {
    create = "100ms"
  }
}`)
	p, cfg, diags := e.plan(planner.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := p.Changes[0].Timeouts.Create; got != 100*time.Millisecond {
		t.Fatalf("planned create timeout %v, want 100ms", got)
	}
	s, diags := Apply(context.Background(), p, e.state, Options{Providers: e.reg, Finalizer: planner.NewFinalizer(cfg, planner.Options{Providers: e.reg})})
	if !diags.HasErrors() {
		t.Fatal("apply should fail")
	}
	var all strings.Builder
	for _, d := range diags {
		all.WriteString(d.Summary + ": " + d.Detail + "\n")
	}
	for _, want := range []string{"Provider call timed out", "slow_thing.a took longer than timeouts.create (100ms)", `provider "slow"`} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("diagnostics lack %q:\n%s", want, all.String())
		}
	}
	if len(s.Instances) != 0 {
		t.Errorf("state holds %v after a create that never finished", s.SortedAddrs())
	}
}

// applySavedJournalOnly applies p as a saved plan (without the refreshed
// state in it) over e's state, stored by a real local backend, with its
// journal, and returns the state read back from the journal alone, as
// after a crash before the final write.
func (e *engine) applySavedJournalOnly(p *plan.Plan, cfg *lang.Config) *state.State {
	e.t.Helper()
	p.PriorState = nil
	b := local.New(filepath.Join(e.t.TempDir(), "drover.state.json"))
	ctx := context.Background()
	if err := b.Persist(ctx, e.state, state.PersistOptions{}); err != nil {
		e.t.Fatal(err)
	}
	stored, err := b.Read(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	j, err := b.Journal(ctx, stored)
	if err != nil {
		e.t.Fatal(err)
	}
	_, diags := Apply(ctx, p, stored, Options{Providers: e.reg, Journal: j,
		Finalizer: planner.NewFinalizer(cfg, planner.Options{Providers: e.reg, Variables: p.Variables})})
	if diags.HasErrors() {
		e.t.Fatal(diags.Error())
	}
	j.Close() // no Commit: the state is what the journal replays
	s, err := b.Read(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// addrsOf lists the addresses in s, in order.
func addrsOf(s *state.State) string {
	var out []string
	for _, a := range s.SortedAddrs() {
		out = append(out, a.String())
	}
	return strings.Join(out, " ")
}

// TestEngineMoved applies a rename by a moved block from a saved plan (no
// refreshed state in it) with a real state journal, and reads the state
// back from the journal alone, as after a crash before the final write:
// the objects are at their new addresses, once each, and the instance
// depending on the renamed resource follows it.
func TestEngineMoved(t *testing.T) {
	e := newEngine(t)
	e.apply(`
resource "value" "a" {
  count = 2
  input = "a${count.index}"
}
resource "value" "user" {
  input = value.a[1].output
}`, planner.Options{})
	e.write(`
resource "value" "site" {
  count = 2
  input = "a${count.index}"
}
resource "value" "user" {
  input = value.site[1].output
}
moved {
  from = value.a
  to   = value.site
}`)
	p, cfg, diags := e.plan(planner.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := actions(p); len(got) != 0 || len(p.Moved) != 2 || !p.HasChanges() {
		t.Fatalf("changes %v, moved %v", got, p.Moved)
	}
	s := e.applySavedJournalOnly(p, cfg)
	addrsGot := addrsOf(s)
	if addrsGot != "value.site[0] value.site[1] value.user" {
		t.Fatalf("state replayed from the journal: %v", addrsGot)
	}
	for _, inst := range s.Instances {
		if inst.Addr.Name == "user" && (len(inst.Dependencies) != 1 || inst.Dependencies[0].Name != "site") {
			t.Fatalf("value.user depends on %v", inst.Dependencies)
		}
	}
}

// TestEngineImportFromSavedPlan applies a saved plan that imports a file
// with a real state journal, and reads the state back from the journal
// alone: the imported object is recorded, as found again at apply.
func TestEngineImportFromSavedPlan(t *testing.T) {
	e := newEngine(t)
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "motd"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.write(`
host "fs1" {
  root = "` + root + `"
}
resource "file" "motd" {
  host    = host.fs1
  path    = "/motd"
  content = "hello\n"
}
import {
  to = file.motd
  id = "fs1:/motd"
}`)
	p, cfg, diags := e.plan(planner.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if c := p.Counts(); c.Import != 1 || c.Change != 0 || !p.HasChanges() {
		t.Fatalf("counts %+v", c)
	}
	got := addrsOf(e.applySavedJournalOnly(p, cfg))
	if got != "file.motd" {
		t.Fatalf("state replayed from the journal: %v", got)
	}
}

// TestEngineForgetFromSavedPlan applies a saved plan that forgets a
// removed resource with a real state journal, and reads the state back
// from the journal alone: the object is gone from the state.
func TestEngineForgetFromSavedPlan(t *testing.T) {
	e := newEngine(t)
	e.apply(`
resource "value" "keep" {
  input = "k"
}
resource "value" "backup" {
  input = "b"
}`, planner.Options{})
	e.write(`
resource "value" "keep" {
  input = "k"
}
removed {
  from = value.backup
  lifecycle {
    destroy = false
  }
}`)
	p, cfg, diags := e.plan(planner.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := actions(p); len(got) != 0 || len(p.Forgotten) != 1 {
		t.Fatalf("changes %v, forgotten %v", got, p.Forgotten)
	}
	got := addrsOf(e.applySavedJournalOnly(p, cfg))
	if got != "value.keep" {
		t.Fatalf("state replayed from the journal: %v", got)
	}
}

// TestEnginePlanTimestamp: plantimestamp() is the plan's time while
// planning, in the saved plan, and again when apply evaluates what was
// unknown, so that a plan applied later still sees the time it was made.
func TestEnginePlanTimestamp(t *testing.T) {
	e := newEngine(t)
	e.write(`
resource "value" "a" { input = "x" }
resource "value" "known" { input = plantimestamp() }
resource "value" "later" { input = "${plantimestamp()} ${value.a.id}" }
`)
	when := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	p, cfg, diags := e.plan(planner.Options{PlanTime: when})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, c := range p.Changes {
		if c.Addr.Name == "known" && !c.After.GetAttr("input").RawEquals(cty.StringVal("2026-03-04T05:06:07Z")) {
			t.Errorf("planned input %#v, want the plan's time", c.After.GetAttr("input"))
		}
	}
	b, err := plan.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := plan.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !saved.Timestamp.Equal(when) {
		t.Fatalf("the saved plan's timestamp is %v, want %v", saved.Timestamp, when)
	}
	s, diags := Apply(context.Background(), p, e.state, Options{Providers: e.reg,
		Finalizer: planner.NewFinalizer(cfg, planner.Options{Providers: e.reg, Variables: p.Variables, PlanTime: saved.Timestamp})})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, in := range s.Instances {
		if in.Addr.Resource.Name == "later" && !strings.HasPrefix(in.Attrs.GetAttr("input").AsString(), "2026-03-04T05:06:07Z ") {
			t.Errorf("applied input %#v, want it to start with the plan's time", in.Attrs.GetAttr("input"))
		}
	}
}

// A failed update keeps the object (what the provider says it now is, or
// its prior value) as it was: only a failed create leaves an object that
// must be replaced.
func TestEngineFailedApplyTaints(t *testing.T) {
	failing := func(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
		if req.Planned.GetAttr("fail").True() {
			return req.Planned, providers.Diagnostics{providers.Errorf("Refused", "the thing refused.")}
		}
		return req.Planned, nil
	}
	flaky := &sdk.Provider{Name: "flaky", Resources: map[string]*sdk.Resource{
		"flaky_thing": {
			Schema: &schema.Resource{Block: &schema.Block{Attributes: map[string]*schema.Attribute{
				"name": {Type: cty.String, Required: true, ForceNew: true},
				"fail": {Type: cty.Bool, Required: true},
			}}},
			Read:   func(ctx context.Context, s cty.Value) (cty.Value, providers.Diagnostics) { return s, nil },
			Create: failing,
			Update: failing,
			Delete: func(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics { return nil },
		},
	}}
	config := func(fail bool) string {
		return fmt.Sprintf("resource \"flaky_thing\" \"a\" {\n  name = \"a\"\n  fail = %t\n}\n", fail)
	}
	for _, tc := range []struct {
		name   string
		before bool // whether the object exists, created without failing
		want   state.Status
		next   []string
	}{
		{"failed create", false, state.Tainted, []string{"flaky_thing.a -/+"}},
		{"failed update", true, state.Ready, []string{"flaky_thing.a ~"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t)
			e.reg = providers.NewRegistry(providers.Entry{Name: "flaky", Factory: func() (providers.Provider, error) { return sdk.New(flaky), nil }})
			if tc.before {
				e.apply(config(false), planner.Options{})
			}
			e.write(config(true))
			p, cfg, diags := e.plan(planner.Options{})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			s, diags := Apply(context.Background(), p, e.state, Options{Providers: e.reg, Finalizer: planner.NewFinalizer(cfg, planner.Options{Providers: e.reg})})
			if !diags.HasErrors() {
				t.Fatal("apply should fail")
			}
			inst := s.Instance(p.Changes[0].Addr)
			if inst == nil {
				t.Fatalf("state lost flaky_thing.a: %v", s.SortedAddrs())
			}
			if inst.Status != tc.want {
				t.Errorf("status %v, want %v", inst.Status, tc.want)
			}
			e.state = s
			e.write(config(false))
			p, _, diags = e.plan(planner.Options{})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if diff := cmp.Diff(tc.next, actions(p)); diff != "" {
				t.Errorf("next plan (-want +got):\n%s", diff)
			}
		})
	}
}
