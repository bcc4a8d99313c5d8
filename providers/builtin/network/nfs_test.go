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
	"github.com/drover-dr/drover/providers/builtin/network/nfstest"
	"github.com/zclconf/go-cty/cty"
)

// nfsEnv is a real ganesha.nfsd and nfs-ls for a test.
type nfsEnv struct {
	srv   *nfstest.Server
	nfsls string
}

func newNFSEnv(t *testing.T) *nfsEnv {
	t.Helper()
	testenv.Root(t)
	exe := testenv.Command(t, "ganesha.nfsd", "nfs-ganesha nfs-ganesha-vfs")
	return &nfsEnv{srv: nfstest.New(t, exe), nfsls: testenv.Command(t, "nfs-ls", "libnfs-utils")}
}

// list is what nfs-ls lists in the export /name, or its error.
func (s *nfsEnv) list(t *testing.T, name string) ([]string, error) {
	t.Helper()
	return s.srv.List(t.Context(), s.nfsls, "/"+name)
}

func (s *nfsEnv) exportConfig(e *resourceEnv, name, path string, attrs map[string]cty.Value) cty.Value {
	m := map[string]cty.Value{"host": host.Config{Name: "fs2"}.Value(), "name": cty.StringVal(name), "path": cty.StringVal(path),
		"protocol": cty.StringVal("nfs"), "ganesha_conf": cty.StringVal(s.srv.Conf), "ganesha_pid_file": cty.StringVal(s.srv.PidFile)}
	for k, v := range attrs {
		m[k] = v
	}
	return e.config(m)
}

// TestExportLifecycle: an NFS share is served once applied (ganesha
// reloaded, not restarted: nfs-ls lists its files), is read back as
// written, becomes read-write in place, moves to another folder, shows
// drift made by hand, and is no longer served after destroy.
func TestExportLifecycle(t *testing.T) {
	s := newNFSEnv(t)
	e := newResourceEnv(t, "share")
	data, other := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "f.txt"), []byte("fs1's data"), 0o644); err != nil {
		t.Fatal(err)
	}
	config := s.exportConfig(e, "data", data, nil)

	plan := e.plan(cty.NullVal(e.objectType()), config)
	if want := "+ share data on fs2: " + data + " (NFS, read-only)"; plan.Description != want {
		t.Errorf("description %q, want %q", plan.Description, want)
	}
	if got := plan.Planned.GetAttr("smb_conf"); !got.IsNull() {
		t.Errorf("an NFS share plans smb_conf %#v", got)
	}
	resp := e.apply(cty.NullVal(e.objectType()), plan.Planned)
	if resp.Diagnostics.HasErrors() {
		t.Fatal(errorText(resp.Diagnostics))
	}
	state := resp.New
	if got, err := s.list(t, "data"); err != nil || !slices.Equal(got, []string{"f.txt"}) {
		t.Errorf("nfs-ls /data after apply: %q, %v", got, err)
	}
	if got := e.read(state); !got.RawEquals(state) {
		t.Errorf("read after create differs:\n%#v\n%#v", got, state)
	}

	rw := s.exportConfig(e, "data", data, map[string]cty.Value{"read_only": cty.False})
	plan = e.plan(state, rw)
	if want := "~ share data on fs2: NFS, read-only -> NFS, read-write"; plan.Description != want {
		t.Errorf("description %q, want %q", plan.Description, want)
	}
	if len(plan.RequiresReplace) != 0 {
		t.Errorf("read-write replaces the share: %v", plan.RequiresReplace)
	}
	if resp = e.apply(state, plan.Planned); resp.Diagnostics.HasErrors() {
		t.Fatal(errorText(resp.Diagnostics))
	}
	state = resp.New
	part := filepath.Join(s.srv.Dir, "drover.d", "export-data.conf")
	if b, _ := os.ReadFile(part); !strings.Contains(string(b), "Access_Type = RW;") {
		t.Errorf("%s after read-write:\n%s", part, b)
	}

	// A new folder: Ganesha takes it in place of the old one.
	moved := s.exportConfig(e, "data", other, map[string]cty.Value{"read_only": cty.False})
	if resp = e.apply(state, e.plan(state, moved).Planned); resp.Diagnostics.HasErrors() {
		t.Fatal(errorText(resp.Diagnostics))
	}
	state = resp.New
	if got, err := s.list(t, "data"); err != nil || len(got) != 0 {
		t.Errorf("nfs-ls /data after the move: %q, %v", got, err)
	}

	// Changed by hand: refresh sees it.
	b, _ := os.ReadFile(part)
	if err := os.WriteFile(part, []byte(strings.Replace(string(b), "Access_Type = RW;", "Access_Type = RO;", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if drifted := e.read(state); !drifted.GetAttr("read_only").True() {
		t.Error("read does not see Access_Type = RO written by hand")
	}

	e.destroy(state)
	if _, err := s.list(t, "data"); err == nil || !strings.Contains(err.Error(), "NFS4ERR_NOENT") {
		t.Errorf("nfs-ls /data after destroy: %v", err)
	}
	if got := e.read(state); !got.IsNull() {
		t.Errorf("read after destroy: %#v", got)
	}
	if _, err := os.Stat(part); !os.IsNotExist(err) {
		t.Errorf("%s is left after destroy: %v", part, err)
	}
}

func TestExportRefusals(t *testing.T) {
	s := newNFSEnv(t)
	e := newResourceEnv(t, "share")
	data := t.TempDir()
	handMade := filepath.Join(s.srv.Dir, "hand.conf")
	if err := os.WriteFile(handMade, []byte("EXPORT { Export_Id = 1; Path = \"/tmp\"; Pseudo = \"/public\"; FSAL { Name = VFS; } }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		config cty.Value
		path   string
		want   string
	}{
		{"missing folder", s.exportConfig(e, "data", filepath.Join(data, "gone"), nil), "path",
			"There is no folder " + filepath.Join(data, "gone") + ` on host "fs2": create it`},
		{"relative path", s.exportConfig(e, "data", "srv/data", nil), "path", `"srv/data" is not an absolute path`},
		{"quote in path", s.exportConfig(e, "data", `/srv/"x`, nil), "path", `is not an absolute path on the host without quotes`},
		{"bad name", s.exportConfig(e, "a b", data, nil), "name", `"a b" is not an NFS share name`},
		{"unknown protocol", s.exportConfig(e, "data", data, map[string]cty.Value{"protocol": cty.StringVal("afp")}), "protocol",
			`"afp" is not a protocol Drover shares with`},
		{"smb_conf", s.exportConfig(e, "data", data, map[string]cty.Value{"smb_conf": cty.StringVal("/etc/samba/smb.conf")}), "smb_conf",
			"this share is an NFS export"},
		{"comment", s.exportConfig(e, "data", data, map[string]cty.Value{"comment": cty.StringVal("x")}), "comment", "NFS exports carry no description"},
		{"ganesha_conf on SMB", s.exportConfig(e, "data", data, map[string]cty.Value{"protocol": cty.NullVal(cty.String)}), "ganesha_conf",
			"this share is an SMB share"},
		{"kernel exports", s.exportConfig(e, "data", data, map[string]cty.Value{"ganesha_conf": cty.StringVal("/etc/exports")}), "ganesha_conf",
			"/etc/exports is the kernel NFS server's export table (exportfs): Drover manages the exports of NFS-Ganesha only"},
		{"defined by hand", s.exportConfig(e, "public", data, map[string]cty.Value{"ganesha_conf": cty.StringVal(handMade)}), "name",
			handMade + " already exports /public"},
		{"no configuration", s.exportConfig(e, "data", data, map[string]cty.Value{"ganesha_conf": cty.StringVal(filepath.Join(data, "ganesha.conf"))}), "ganesha_conf",
			"There is no NFS-Ganesha configuration at " + filepath.Join(data, "ganesha.conf")},
		{"another server's configuration", s.exportConfig(e, "data", data, map[string]cty.Value{"ganesha_conf": cty.StringVal(handMade)}), "ganesha_pid_file",
			"runs with " + s.srv.Conf + ", not " + handMade},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.tryPlan(cty.NullVal(e.objectType()), tc.config)
			if got := errorText(resp.Diagnostics); !strings.Contains(got, tc.want) {
				t.Errorf("the error %q does not say %q", got, tc.want)
			}
			if len(resp.Diagnostics) == 0 || !resp.Diagnostics[0].Path.Equals(cty.GetAttrPath(tc.path)) {
				t.Errorf("the error is not about %s: %#v", tc.path, resp.Diagnostics)
			}
		})
	}

	t.Run("managed elsewhere", func(t *testing.T) {
		state := e.create(s.exportConfig(e, "Data", data, nil))
		defer e.destroy(state)
		resp := e.tryPlan(cty.NullVal(e.objectType()), s.exportConfig(e, "data", data, nil))
		if got := errorText(resp.Diagnostics); !strings.Contains(got, `Drover already exports /Data on host "fs2"`) {
			t.Errorf("a second share of the same name: %q", got)
		}
	})

	// ganesha.nfsd stops between plan and apply: the apply fails naming
	// the pid file, and leaves no file of the export behind.
	t.Run("ganesha not running", func(t *testing.T) {
		plan := e.plan(cty.NullVal(e.objectType()), s.exportConfig(e, "data", data, nil))
		s.srv.Stop()
		resp := e.apply(cty.NullVal(e.objectType()), plan.Planned)
		got := errorText(resp.Diagnostics)
		if want := "ganesha.nfsd is not running for " + s.srv.PidFile; !strings.Contains(got, want) {
			t.Errorf("the error %q does not say %q", got, want)
		}
		if len(resp.Diagnostics) == 0 || !resp.Diagnostics[0].Path.Equals(cty.GetAttrPath("ganesha_pid_file")) {
			t.Errorf("the error is not about ganesha_pid_file: %#v", resp.Diagnostics)
		}
		if _, err := os.Stat(filepath.Join(s.srv.Dir, "drover.d", "export-data.conf")); !os.IsNotExist(err) {
			t.Errorf("the export's file is left after the failed apply: %v", err)
		}
	})
}

// TestShareProtocolOfOldState: a share recorded before shares had a
// protocol is read back as an SMB share, and planning it again changes
// nothing; moving it to NFS replaces it.
func TestShareProtocolOfOldState(t *testing.T) {
	s := newSambaEnv(t)
	e := newResourceEnv(t, "share")
	data := t.TempDir()
	config := s.shareConfig(e, "data", data, nil)
	state := e.create(config)
	defer func() { e.destroy(e.read(state)) }()
	old := sdkSet(state, "protocol", cty.NullVal(cty.String))
	read := e.read(old)
	if got := read.GetAttr("protocol"); !got.RawEquals(cty.StringVal("smb")) {
		t.Errorf("protocol read back %#v, want smb", got)
	}
	if plan := e.plan(read, config); !plan.Planned.RawEquals(read) || len(plan.RequiresReplace) != 0 {
		t.Errorf("a second plan changes the share: %#v, replace %v", plan.Planned, plan.RequiresReplace)
	}
	nfs := newNFSEnv(t).exportConfig(e, "data", data, nil)
	resp := e.p.Plan(t.Context(), providers.PlanRequest{TypeName: "share", Prior: read, Config: nfs})
	if !slices.ContainsFunc(resp.RequiresReplace, func(p cty.Path) bool { return p.Equals(cty.GetAttrPath("protocol")) }) {
		t.Errorf("SMB to NFS does not replace the share: %v %s", resp.RequiresReplace, errorText(resp.Diagnostics))
	}
}

func sdkSet(v cty.Value, attr string, to cty.Value) cty.Value {
	m := v.AsValueMap()
	m[attr] = to
	return cty.ObjectVal(m)
}

// TestNetworkIdentityExport: an identity's share block with protocol =
// "nfs" is an export of the identity's Ganesha server, planned with its
// own line, served once applied, read back unchanged and given back on
// destroy; an SMB share beside it keeps to Samba.
func TestNetworkIdentityExport(t *testing.T) {
	n := newNFSEnv(t)
	s := newSambaEnv(t)
	e := newResourceEnv(t, "network_identity")
	data := t.TempDir()
	share := func(name, protocol string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(name), "path": cty.StringVal(data), "read_only": cty.NullVal(cty.Bool),
			"comment": cty.NullVal(cty.String), "protocol": cty.StringVal(protocol)})
	}
	config := e.config(map[string]cty.Value{
		"host":             host.Config{Name: "fs2"}.Value(),
		"smb_conf":         cty.StringVal(s.srv.Conf),
		"ganesha_conf":     cty.StringVal(n.srv.Conf),
		"ganesha_pid_file": cty.StringVal(n.srv.PidFile),
		"share":            cty.ListVal([]cty.Value{share("data", "nfs"), share("public", "smb")}),
		"address":          cty.ListValEmpty(e.objectType().AttributeType("address").ElementType()),
		"dns_record":       cty.ListValEmpty(e.objectType().AttributeType("dns_record").ElementType()),
	})
	plan := e.plan(cty.NullVal(e.objectType()), config)
	want := "take over the identity on fs2:\n+ share data on fs2: " + data + " (NFS, read-only)\n+ share public on fs2: " + data + " (read-only)"
	if plan.Description != want {
		t.Errorf("description:\n%s\nwant:\n%s", plan.Description, want)
	}
	resp := e.apply(cty.NullVal(e.objectType()), plan.Planned)
	if resp.Diagnostics.HasErrors() {
		t.Fatal(errorText(resp.Diagnostics))
	}
	state := resp.New
	if _, err := n.list(t, "data"); err != nil {
		t.Errorf("nfs-ls /data after the takeover: %v", err)
	}
	if _, err := n.list(t, "public"); err == nil {
		t.Error("the SMB share is exported by NFS too")
	}
	if got := s.shares(t, ""); len(got) != 1 || got[0].Name != "public" {
		t.Errorf("SMB shares after the takeover: %v", got)
	}
	if got := e.read(state); !got.RawEquals(state) {
		t.Errorf("read after the takeover differs:\n%#v\n%#v", got, state)
	}
	if plan := e.plan(state, config); !plan.Planned.RawEquals(state) || plan.Description != "" {
		t.Errorf("a second plan changes something: %q", plan.Description)
	}

	// A share block that changes protocol gives the SMB share back and
	// takes the export.
	config = sdkSet(config, "share", cty.ListVal([]cty.Value{share("data", "nfs"), share("public", "nfs")}))
	plan = e.plan(state, config)
	want = "change the identity on fs2:\n+ share public on fs2: " + data + " (NFS, read-only)\n- share public on fs2"
	if plan.Description != want {
		t.Errorf("description:\n%s\nwant:\n%s", plan.Description, want)
	}
	if resp = e.apply(state, plan.Planned); resp.Diagnostics.HasErrors() {
		t.Fatal(errorText(resp.Diagnostics))
	}
	state = resp.New
	if got := s.shares(t, ""); len(got) != 0 {
		t.Errorf("SMB shares after public moved to NFS: %v", got)
	}
	if _, err := n.list(t, "public"); err != nil {
		t.Errorf("nfs-ls /public after it moved to NFS: %v", err)
	}

	e.destroy(state)
	for _, name := range []string{"data", "public"} {
		if _, err := n.list(t, name); err == nil || !strings.Contains(err.Error(), "NFS4ERR_NOENT") {
			t.Errorf("nfs-ls /%s after destroy: %v", name, err)
		}
	}
}
