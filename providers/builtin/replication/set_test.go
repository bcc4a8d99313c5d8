package replication

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/replication/mirror"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

type setEnv struct {
	t      *testing.T
	p      providers.Provider
	r1, r2 string
	h1, h2 cty.Value
}

func newSetEnv(t *testing.T) *setEnv {
	dir := t.TempDir()
	e := &setEnv{t: t, p: sdk.New(New()), r1: filepath.Join(dir, "fs1"), r2: filepath.Join(dir, "fs2")}
	e.h1 = host.Config{Name: "fs1", Root: e.r1}.Value()
	e.h2 = host.Config{Name: "fs2", Root: e.r2}.Value()
	return e
}

func (e *setEnv) write(rel, content string) {
	e.t.Helper()
	p := filepath.Join(e.r1, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// config is a set mirroring fs1's sources to fs2:/replica/fs1.
func (e *setEnv) config(attrs map[string]cty.Value, sources ...string) cty.Value {
	if len(sources) == 0 {
		sources = []string{"/srv/repset"}
	}
	ep := func(h cty.Value, p string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"host": h, "path": cty.StringVal(p)})
	}
	var srcs []cty.Value
	for _, s := range sources {
		srcs = append(srcs, ep(e.h1, s))
	}
	m := map[string]cty.Value{}
	for name, a := range setSchema.Block.Attributes {
		m[name] = cty.NullVal(a.Type)
	}
	m["source"] = cty.ListVal(srcs)
	m["target"] = ep(e.h2, "/replica/fs1")
	m["delete_orphans"] = cty.True
	for k, v := range attrs {
		m[k] = v
	}
	return cty.ObjectVal(m)
}

func (e *setEnv) plan(prior, config cty.Value) providers.PlanResponse {
	e.t.Helper()
	return e.p.Plan(e.t.Context(), providers.PlanRequest{TypeName: "replication_set", Prior: prior,
		Proposed: setSchema.Block.ProposedNew(prior, config), Config: config})
}

func (e *setEnv) apply(prior, planned cty.Value) providers.ApplyResponse {
	e.t.Helper()
	return e.p.Apply(e.t.Context(), providers.ApplyRequest{TypeName: "replication_set", Prior: prior, Planned: planned})
}

func (e *setEnv) read(state cty.Value) providers.ReadResponse {
	e.t.Helper()
	return e.p.Read(e.t.Context(), providers.ReadRequest{TypeName: "replication_set", Prior: state})
}

func noErr(t *testing.T, d providers.Diagnostics) {
	t.Helper()
	if d.HasErrors() {
		t.Fatalf("%v", d)
	}
}

func TestSetPlanApplyDrift(t *testing.T) {
	e := newSetEnv(t)
	e.write("srv/repset/a.txt", "alpha")
	e.write("srv/repset/sub/b.reg", "bravo")
	config := e.config(nil)
	none := cty.NullVal(setType)

	pr := e.plan(none, config)
	noErr(t, pr.Diagnostics)
	for _, want := range []string{"4 to add, 0 to update, 0 to delete, 10 B to send", "\n+ fs1:/srv/repset/a.txt (5 B)", "\n+ fs1:/srv/repset/sub/"} {
		if !strings.Contains(pr.Description, want) {
			t.Errorf("description lacks %q:\n%s", want, pr.Description)
		}
	}
	ar := e.apply(none, pr.Planned)
	noErr(t, ar.Diagnostics)
	if b, err := os.ReadFile(filepath.Join(e.r2, "replica/fs1/srv/repset/sub/b.reg")); err != nil || string(b) != "bravo" {
		t.Fatalf("replica: %q, %v", b, err)
	}
	state := ar.New
	if state.GetAttr("id").AsString() != "fs2:/replica/fs1" || !isZero(state.GetAttr("pending")) || state.GetAttr("last_mirror").IsNull() {
		t.Errorf("state after apply: %#v", state)
	}

	// Drift: the source changed; refresh counts it, plan itemises it.
	time.Sleep(10 * time.Millisecond)
	e.write("srv/repset/a.txt", "alpha, changed")
	rr := e.read(state)
	noErr(t, rr.Diagnostics)
	if got := rr.New.GetAttr("pending"); !got.Equals(cty.NumberIntVal(1)).True() || rr.New.GetAttr("oldest_pending").IsNull() {
		t.Errorf("refreshed: pending %#v oldest %#v", got, rr.New.GetAttr("oldest_pending"))
	}
	pr = e.plan(rr.New, config)
	noErr(t, pr.Diagnostics)
	if !strings.Contains(pr.Description, "~ fs1:/srv/repset/a.txt (size, mtime)") || !strings.Contains(pr.Description, "oldest unreplicated change") {
		t.Errorf("drift description:\n%s", pr.Description)
	}
	ar = e.apply(rr.New, pr.Planned)
	noErr(t, ar.Diagnostics)
	rr = e.read(ar.New)
	if !rr.New.RawEquals(ar.New) {
		t.Errorf("read after the repair differs:\n%#v\n%#v", rr.New, ar.New)
	}
	if pr := e.plan(rr.New, config); !pr.Planned.RawEquals(rr.New) || pr.Description != "" {
		t.Errorf("plan after the repair is not a no-op: %s", pr.Description)
	}
}

func TestSetSeveralSources(t *testing.T) {
	e := newSetEnv(t)
	e.write("srv/a/f", "a")
	e.write("etc/dr/g", "b")
	config := e.config(nil, "/srv/a", "/etc/dr")
	none := cty.NullVal(setType)
	pr := e.plan(none, config)
	noErr(t, pr.Diagnostics)
	noErr(t, e.apply(none, pr.Planned).Diagnostics)
	for _, p := range []string{"replica/fs1/srv/a/f", "replica/fs1/etc/dr/g"} {
		if _, err := os.Stat(filepath.Join(e.r2, p)); err != nil {
			t.Error(err)
		}
	}
}

func TestSetVanishedSource(t *testing.T) {
	e := newSetEnv(t)
	e.write("srv/repset/a.txt", "alpha")
	config := e.config(nil)
	none := cty.NullVal(setType)
	pr := e.plan(none, config)
	ar := e.apply(none, pr.Planned)
	noErr(t, ar.Diagnostics)
	os.RemoveAll(filepath.Join(e.r1, "srv/repset"))
	rr := e.read(ar.New)
	kept := sdk.SetAttrs(ar.New, map[string]cty.Value{"pending": cty.NullVal(cty.Number)})
	if rr.Diagnostics.HasErrors() || len(rr.Diagnostics) == 0 || !rr.New.RawEquals(kept) {
		t.Errorf("read of a vanished source: %v (want a warning and the state kept, but pending no longer known)", rr.Diagnostics)
	}
	pr = e.plan(rr.New, config)
	if !pr.Diagnostics.HasErrors() || pr.Diagnostics[0].Summary != "Source folder vanished" {
		t.Fatalf("plan of a vanished source: %v", pr.Diagnostics)
	}
	if !strings.Contains(pr.Diagnostics[0].Detail, "Nothing on the target was deleted") {
		t.Errorf("detail: %s", pr.Diagnostics[0].Detail)
	}
	if _, err := os.Stat(filepath.Join(e.r2, "replica/fs1/srv/repset/a.txt")); err != nil {
		t.Errorf("the replica lost a file: %v", err)
	}
}

// TestSetSourceMadeByAnEarlierResource plans a new set whose source does
// not exist yet (a resource applied before it creates it): the plan says
// so, and the apply mirrors the source once it exists, or refuses it when
// it still does not.
func TestSetSourceMadeByAnEarlierResource(t *testing.T) {
	e := newSetEnv(t)
	config := e.config(nil)
	none := cty.NullVal(setType)
	pr := e.plan(none, config)
	noErr(t, pr.Diagnostics)
	if !strings.Contains(pr.Description, "does not exist") || !strings.Contains(pr.Description, "when applied") {
		t.Errorf("description %q", pr.Description)
	}
	if ar := e.apply(none, pr.Planned); !ar.Diagnostics.HasErrors() || ar.Diagnostics[0].Summary != "Source folder vanished" {
		t.Fatalf("apply with the source still missing: %v", ar.Diagnostics)
	}
	e.write("srv/repset/product.reg", "captured")
	ar := e.apply(none, pr.Planned)
	noErr(t, ar.Diagnostics)
	if b, err := os.ReadFile(filepath.Join(e.r2, "replica/fs1/srv/repset/product.reg")); err != nil || string(b) != "captured" {
		t.Errorf("replica: %q, %v", b, err)
	}
}

// TestSetTriggers mirrors an in-sync set again when its triggers change:
// a file written into the source by a resource applied before it.
func TestSetTriggers(t *testing.T) {
	e := newSetEnv(t)
	e.write("srv/repset/product.reg", "v1")
	none := cty.NullVal(setType)
	config := e.config(map[string]cty.Value{"triggers": cty.StringVal("sha-1")})
	pr := e.plan(none, config)
	ar := e.apply(none, pr.Planned)
	noErr(t, ar.Diagnostics)
	state := e.read(ar.New).New
	if pr := e.plan(state, config); !pr.Planned.RawEquals(state) {
		t.Fatalf("an in-sync set with the same triggers plans a change: %#v", pr.Planned)
	}
	// The new triggers value is unknown at plan time, as a resource's
	// computed attribute is; the file changes before the set is applied.
	pr = e.plan(state, e.config(map[string]cty.Value{"triggers": cty.UnknownVal(cty.String)}))
	noErr(t, pr.Diagnostics)
	if pr.Planned.GetAttr("last_mirror").IsKnown() {
		t.Fatal("last_mirror must be unknown until the set is applied again")
	}
	e.write("srv/repset/product.reg", "v2")
	final := e.plan(state, e.config(map[string]cty.Value{"triggers": cty.StringVal("sha-2")}))
	noErr(t, final.Diagnostics)
	noErr(t, e.apply(state, final.Planned).Diagnostics)
	if b, _ := os.ReadFile(filepath.Join(e.r2, "replica/fs1/srv/repset/product.reg")); string(b) != "v2" {
		t.Errorf("replica holds %q, want the file written before the set was applied", b)
	}
}

func TestSetValidate(t *testing.T) {
	e := newSetEnv(t)
	str := cty.StringVal
	list := func(s ...string) cty.Value {
		var vs []cty.Value
		for _, x := range s {
			vs = append(vs, str(x))
		}
		return cty.ListVal(vs)
	}
	tests := []struct {
		name   string
		config cty.Value
		path   string
		want   string
	}{
		{"dot dot", e.config(nil, "/srv/../etc"), "source[0].path", "climbs"},
		{"relative", e.config(nil, "srv"), "source[0].path", "not absolute"},
		{"preserve", e.config(map[string]cty.Value{"preserve": list("mode", "acls")}), "preserve", `"acls"`},
		{"bandwidth", e.config(map[string]cty.Value{"bandwidth": str("fast")}), "bandwidth", "not a rate"},
		{"pattern", e.config(map[string]cty.Value{"exclude": list("[a-")}), "exclude", "not a valid glob"},
		{"include pattern", e.config(map[string]cty.Value{"include": list("../x")}), "include", "climbs"},
		{"duplicate", e.config(nil, "/srv/a", "/srv/a"), "source[1]", "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.p.Validate(t.Context(), providers.ValidateRequest{Kind: providers.KindResource, TypeName: "replication_set", Config: tt.config})
			found := false
			for _, d := range resp.Diagnostics {
				found = found || d.Severity == providers.Error && pathString(d.Path) == tt.path && strings.Contains(d.Detail, tt.want)
			}
			if !found {
				t.Errorf("no error at %s saying %q: %v", tt.path, tt.want, resp.Diagnostics)
			}
		})
	}
}

func pathString(p cty.Path) string {
	var b strings.Builder
	for _, s := range p {
		switch s := s.(type) {
		case cty.GetAttrStep:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Name)
		case cty.IndexStep:
			i, _ := s.Key.AsBigFloat().Int64()
			fmt.Fprintf(&b, "[%d]", i)
		}
	}
	return b.String()
}

func TestDescribeWindow(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{45 * time.Second, "45s"}, {192 * time.Second, "3m12s"}, {133 * time.Minute, "2h13m"}, {124 * time.Hour, "5d4h"}} {
		if got := roundAge(tt.d); got != tt.want {
			t.Errorf("roundAge(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	last := now.Add(-time.Hour)
	oldFile := mirror.Summary{Add: 1, Oldest: now.Add(-24 * time.Hour).UnixNano()}
	if got := window(oldFile, last, now); got != time.Hour {
		t.Errorf("a change older than the last mirror counts from it: %v", got)
	}
	recent := mirror.Summary{Update: 1, Oldest: now.Add(-time.Minute).UnixNano()}
	if got := window(recent, last, now); got != time.Minute {
		t.Errorf("window %v, want 1m", got)
	}
	if got := window(mirror.Summary{}, last, now); got != 0 {
		t.Errorf("in sync: window %v", got)
	}
}

func TestVerifyAction(t *testing.T) {
	e := newSetEnv(t)
	e.write("srv/repset/a.txt", "alpha")
	e.write("srv/repset/b.txt", "bravo")
	none := cty.NullVal(setType)
	pr := e.plan(none, e.config(nil))
	ar := e.apply(none, pr.Planned)
	noErr(t, ar.Diagnostics)
	// Same size and time, other content: only a comparison by content sees it.
	replica := filepath.Join(e.r2, "replica/fs1/srv/repset/a.txt")
	fi, _ := os.Stat(replica)
	os.WriteFile(replica, []byte("ALPHA"), 0o644)
	os.Chtimes(replica, fi.ModTime(), fi.ModTime())
	os.Remove(filepath.Join(e.r2, "replica/fs1/srv/repset/b.txt"))

	invoke := func(repair bool) cty.Value {
		t.Helper()
		args := cty.ObjectVal(map[string]cty.Value{"set": ar.New, "repair": cty.BoolVal(repair)})
		resp := e.p.Invoke(t.Context(), providers.InvokeRequest{Action: "verify_replica", Args: args, Progress: func(providers.Progress) {}})
		noErr(t, resp.Diagnostics)
		return resp.Result
	}
	res := invoke(false)
	var diffs []string
	for _, v := range res.GetAttr("differences").AsValueSlice() {
		diffs = append(diffs, v.AsString())
	}
	want := []string{"~ fs1:/srv/repset/ (mtime)", "~ fs1:/srv/repset/a.txt (content)", "+ fs1:/srv/repset/b.txt (5 B)"}
	if strings.Join(diffs, "\n") != strings.Join(want, "\n") || res.GetAttr("in_sync").True() {
		t.Errorf("verify: %v", res)
	}
	res = invoke(true)
	if !res.GetAttr("repaired").True() || !res.GetAttr("in_sync").True() {
		t.Errorf("verify --repair: %#v", res)
	}
	if b, _ := os.ReadFile(replica); string(b) != "alpha" {
		t.Errorf("not repaired: %q", b)
	}
	if res := invoke(false); len(res.GetAttr("differences").AsValueSlice()) != 0 {
		t.Errorf("after the repair: %#v", res)
	}
}

// TestVerifyReplacedSource: verify compares a replaced source (it deletes
// nothing) and lists what a mirror would delete; a repair of it is
// refused like an apply.
func TestVerifyReplacedSource(t *testing.T) {
	e := newSetEnv(t)
	e.write("srv/repset/a.txt", "alpha")
	e.write("srv/repset/b.txt", "bravo")
	none := cty.NullVal(setType)
	pr := e.plan(none, e.config(nil))
	ar := e.apply(none, pr.Planned)
	noErr(t, ar.Diagnostics)
	src := filepath.Join(e.r1, "srv/repset")
	if err := os.Rename(src, src+".old"); err != nil {
		t.Fatal(err)
	}
	e.write("srv/repset/c.txt", "charlie")
	invoke := func(repair bool) providers.InvokeResponse {
		args := cty.ObjectVal(map[string]cty.Value{"set": ar.New, "repair": cty.BoolVal(repair)})
		return e.p.Invoke(t.Context(), providers.InvokeRequest{Action: "verify_replica", Args: args, Progress: func(providers.Progress) {}})
	}
	resp := invoke(false)
	noErr(t, resp.Diagnostics)
	var diffs []string
	for _, v := range resp.Result.GetAttr("differences").AsValueSlice() {
		diffs = append(diffs, v.AsString())
	}
	if want := "- fs1:/srv/repset/a.txt\n- fs1:/srv/repset/b.txt\n+ fs1:/srv/repset/c.txt (7 B)"; !strings.Contains(strings.Join(diffs, "\n"), want) {
		t.Errorf("differences %q, want %q among them", diffs, want)
	}
	resp = invoke(true)
	if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != "Source folder replaced" {
		t.Fatalf("repair of a replaced source: %v", resp.Diagnostics)
	}
	if _, err := os.Stat(filepath.Join(e.r2, "replica/fs1/srv/repset/a.txt")); err != nil {
		t.Errorf("the replica lost a.txt: %v", err)
	}
}
