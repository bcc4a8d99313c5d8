package network

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/network/sambatest"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

// resourceEnv plans, applies and reads one resource type of the provider.
type resourceEnv struct {
	t   *testing.T
	p   providers.Provider
	typ string
}

func newResourceEnv(t *testing.T, typ string) *resourceEnv {
	return &resourceEnv{t: t, p: sdk.New(New()), typ: typ}
}

// config is a configuration as the decoder gives it: attrs, every other
// attribute null.
func (e *resourceEnv) config(attrs map[string]cty.Value) cty.Value {
	m := map[string]cty.Value{}
	for n, ty := range e.objectType().AttributeTypes() {
		m[n] = cty.NullVal(ty)
	}
	for k, v := range attrs {
		m[k] = v
	}
	return cty.ObjectVal(m)
}

func (e *resourceEnv) objectType() cty.Type {
	return New().Resources[e.typ].Schema.Block.ImpliedType()
}

func (e *resourceEnv) tryPlan(prior, config cty.Value) providers.PlanResponse {
	return e.p.Plan(e.t.Context(), providers.PlanRequest{TypeName: e.typ, Prior: prior, Config: config})
}

func (e *resourceEnv) plan(prior, config cty.Value) providers.PlanResponse {
	e.t.Helper()
	resp := e.tryPlan(prior, config)
	if resp.Diagnostics.HasErrors() {
		e.t.Fatalf("plan: %s", errorText(resp.Diagnostics))
	}
	return resp
}

func (e *resourceEnv) apply(prior, planned cty.Value) providers.ApplyResponse {
	e.t.Helper()
	return e.p.Apply(e.t.Context(), providers.ApplyRequest{TypeName: e.typ, Prior: prior, Planned: planned})
}

// create plans and applies config from nothing, failing the test on error.
func (e *resourceEnv) create(config cty.Value) cty.Value {
	e.t.Helper()
	none := cty.NullVal(e.objectType())
	resp := e.apply(none, e.plan(none, config).Planned)
	if resp.Diagnostics.HasErrors() {
		e.t.Fatalf("create: %s", errorText(resp.Diagnostics))
	}
	return resp.New
}

func (e *resourceEnv) destroy(state cty.Value) {
	e.t.Helper()
	if resp := e.apply(state, cty.NullVal(e.objectType())); resp.Diagnostics.HasErrors() {
		e.t.Fatalf("destroy: %s", errorText(resp.Diagnostics))
	}
}

func (e *resourceEnv) read(state cty.Value) cty.Value {
	e.t.Helper()
	resp := e.p.Read(e.t.Context(), providers.ReadRequest{TypeName: e.typ, Prior: state})
	if resp.Diagnostics.HasErrors() {
		e.t.Fatalf("read: %s", errorText(resp.Diagnostics))
	}
	return resp.New
}

// sambaEnv is a real smbd and smbclient for a test.
type sambaEnv struct {
	srv       *sambatest.Server
	smbclient string
}

func newSambaEnv(t *testing.T) *sambaEnv {
	t.Helper()
	smbd := testenv.Command(t, "smbd", "samba")
	testenv.Command(t, "smbcontrol", "samba-common-bin")
	return &sambaEnv{srv: sambatest.New(t, smbd), smbclient: testenv.Command(t, "smbclient", "smbclient")}
}

// shares lists the shares smbclient sees when it calls the server name.
func (s *sambaEnv) shares(t *testing.T, name string) []sambatest.Share {
	t.Helper()
	got, err := s.srv.List(t.Context(), s.smbclient, name, "")
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(got, func(s sambatest.Share) bool { return s.Type == "IPC" })
}

func (s *sambaEnv) shareConfig(e *resourceEnv, name, path string, attrs map[string]cty.Value) cty.Value {
	m := map[string]cty.Value{"host": host.Config{Name: "fs2"}.Value(), "name": cty.StringVal(name),
		"path": cty.StringVal(path), "smb_conf": cty.StringVal(s.srv.Conf)}
	for k, v := range attrs {
		m[k] = v
	}
	return e.config(m)
}

// TestShareLifecycle: a share appears in smbclient's list once applied
// (smbd reloaded, not restarted), is read back as written, shows drift
// made by hand, changes in place, and disappears on destroy.
func TestShareLifecycle(t *testing.T) {
	s := newSambaEnv(t)
	e := newResourceEnv(t, "share")
	data := t.TempDir()
	config := s.shareConfig(e, "data", data, map[string]cty.Value{"comment": cty.StringVal("fs1's data")})

	plan := e.plan(cty.NullVal(e.objectType()), config)
	if want := "+ share data on fs2: " + data + " (read-only)"; plan.Description != want {
		t.Errorf("description %q, want %q", plan.Description, want)
	}
	resp := e.apply(cty.NullVal(e.objectType()), plan.Planned)
	if resp.Diagnostics.HasErrors() {
		t.Fatal(errorText(resp.Diagnostics))
	}
	state := resp.New
	if diff := cmp.Diff([]sambatest.Share{{Name: "data", Type: "Disk", Comment: "fs1's data"}}, s.shares(t, "")); diff != "" {
		t.Errorf("shares after apply (-want +got):\n%s", diff)
	}
	if got := e.read(state); !got.RawEquals(state) {
		t.Errorf("read after create differs:\n%#v\n%#v", got, state)
	}

	// A second share: the main configuration still includes Drover's
	// index once.
	other := e.create(s.shareConfig(e, "other", t.TempDir(), map[string]cty.Value{"read_only": cty.False}))
	main, err := os.ReadFile(s.srv.Conf)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(main), "include = "+filepath.Join(s.srv.Dir, "drover.d", "index.conf")+"\n"); n != 1 {
		t.Errorf("the main configuration includes Drover's index %d times:\n%s", n, main)
	}
	if got := len(s.shares(t, "")); got != 2 {
		t.Errorf("%d shares listed, want 2", got)
	}
	e.destroy(other)

	// Changed by hand: refresh sees it.
	part := filepath.Join(s.srv.Dir, "drover.d", "share-data.conf")
	b, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(part, []byte(strings.Replace(string(b), "read only = yes", "read only = no", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	drifted := e.read(state)
	if drifted.GetAttr("read_only").True() {
		t.Error("read does not see read only = no written by hand")
	}
	// The next apply puts it back, in place.
	plan = e.plan(drifted, config)
	if want := "~ share data on fs2: read-write -> read-only"; plan.Description != want {
		t.Errorf("description %q, want %q", plan.Description, want)
	}
	if resp := e.apply(drifted, plan.Planned); resp.Diagnostics.HasErrors() {
		t.Fatal(errorText(resp.Diagnostics))
	}
	if got := e.read(state); !got.RawEquals(state) {
		t.Errorf("read after the repair differs:\n%#v\n%#v", got, state)
	}

	e.destroy(state)
	if got := s.shares(t, ""); len(got) != 0 {
		t.Errorf("shares after destroy: %v", got)
	}
	if got := e.read(state); !got.IsNull() {
		t.Errorf("read after destroy: %#v", got)
	}
	if _, err := os.Stat(part); !os.IsNotExist(err) {
		t.Errorf("%s is left after destroy: %v", part, err)
	}
}

func TestShareRefusals(t *testing.T) {
	s := newSambaEnv(t)
	e := newResourceEnv(t, "share")
	data := t.TempDir()
	file := filepath.Join(data, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	handMade := filepath.Join(s.srv.Dir, "hand.conf")
	if err := os.WriteFile(handMade, []byte("[global]\n  workgroup = DROVER\n[Public]\n  path = /tmp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		config cty.Value
		path   string
		want   string
	}{
		{"missing folder", s.shareConfig(e, "data", filepath.Join(data, "gone"), nil), "path",
			"There is no folder " + filepath.Join(data, "gone") + ` on host "fs2": create it`},
		{"a file", s.shareConfig(e, "data", file, nil), "path", file + ` on host "fs2" is a file, not a folder`},
		{"relative path", s.shareConfig(e, "data", "srv/data", nil), "path", `"srv/data" is not an absolute path`},
		{"special section", s.shareConfig(e, "Homes", data, nil), "name", "one of Samba's special sections"},
		{"bad name", s.shareConfig(e, "a/b", data, nil), "name", `"a/b" is not a share name`},
		{"defined by hand", s.shareConfig(e, "public", data, map[string]cty.Value{"smb_conf": cty.StringVal(handMade)}), "name",
			handMade + " already defines the share [public]"},
		{"rooted host", s.shareConfig(e, "data", data, map[string]cty.Value{"host": host.Config{Name: "fs2", Root: data}.Value()}), "host",
			`Host "fs2" is rooted at ` + data + ", but shares act on the whole machine"},
		{"no configuration", s.shareConfig(e, "data", data, map[string]cty.Value{"smb_conf": cty.StringVal(filepath.Join(data, "smb.conf"))}), "smb_conf",
			"There is no Samba configuration at " + filepath.Join(data, "smb.conf")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.tryPlan(cty.NullVal(e.objectType()), tc.config)
			if len(resp.Diagnostics) == 0 {
				resp.Diagnostics = e.p.Validate(t.Context(), providers.ValidateRequest{Kind: providers.KindResource, TypeName: "share", Config: tc.config}).Diagnostics
			}
			if got := errorText(resp.Diagnostics); !strings.Contains(got, tc.want) {
				t.Errorf("the error %q does not say %q", got, tc.want)
			}
			if len(resp.Diagnostics) == 0 || !resp.Diagnostics[0].Path.Equals(cty.GetAttrPath(tc.path)) {
				t.Errorf("the error is not about %s: %#v", tc.path, resp.Diagnostics)
			}
		})
	}

	t.Run("managed elsewhere", func(t *testing.T) {
		state := e.create(s.shareConfig(e, "Data", data, nil))
		defer e.destroy(state)
		resp := e.tryPlan(cty.NullVal(e.objectType()), s.shareConfig(e, "data", data, nil))
		if got := errorText(resp.Diagnostics); !strings.Contains(got, "Drover already manages the share [Data] on host \"fs2\"") {
			t.Errorf("a second share of the same name: %q", got)
		}
	})

	// smbd stops between plan and apply: the apply fails saying so, and
	// leaves no file of the share behind.
	t.Run("smbd not running", func(t *testing.T) {
		plan := e.plan(cty.NullVal(e.objectType()), s.shareConfig(e, "data", data, nil))
		s.srv.Stop()
		resp := e.apply(cty.NullVal(e.objectType()), plan.Planned)
		got := errorText(resp.Diagnostics)
		for _, want := range []string{"smbd is not running", "smbd does not answer for " + s.srv.Conf, "Can't find pid", "start smbd"} {
			if !strings.Contains(got, want) {
				t.Errorf("the error %q does not say %q", got, want)
			}
		}
		if _, err := os.Stat(filepath.Join(s.srv.Dir, "drover.d", "share-data.conf")); !os.IsNotExist(err) {
			t.Errorf("the share's file is left after the failed reload: %v", err)
		}
		index, _ := os.ReadFile(filepath.Join(s.srv.Dir, "drover.d", "index.conf"))
		if strings.Contains(string(index), "share-data") {
			t.Errorf("the index still includes the share:\n%s", index)
		}
		replan := e.tryPlan(cty.NullVal(e.objectType()), s.shareConfig(e, "data", data, nil))
		if got := errorText(replan.Diagnostics); !strings.Contains(got, "smbd is not running") {
			t.Errorf("planning with smbd stopped: %q", got)
		}
	})
}
