package network

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers/builtin/network/sambatest"
	"github.com/zclconf/go-cty/cty"
)

// utsEnv names, in a test process re-executed in a UTS namespace of its
// own, the namespace of the process that started it: the test acts only
// when its namespace differs, so this machine's host name never changes.
const utsEnv = "DROVER_TEST_PARENT_UTS"

// inOwnUTS runs the test t in a copy of the test binary in a new UTS
// namespace and reports whether this process is that copy (then the test
// goes on). In the parent it waits for the copy and passes on its result.
func inOwnUTS(t *testing.T) bool {
	t.Helper()
	self, err := os.Readlink("/proc/self/ns/uts")
	if err != nil {
		t.Fatal(err)
	}
	if parent := os.Getenv(utsEnv); parent != "" {
		if parent == self {
			t.Fatalf("the re-executed test runs in its parent's UTS namespace %s: refusing to change this machine's host name", self)
		}
		return true
	}
	testenv.Root(t)
	before, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), utsEnv+"="+self)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s in its own UTS namespace: %v\n%s", t.Name(), err, out)
	} else if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Errorf("%s did not run in its own UTS namespace:\n%s", t.Name(), out)
	}
	if after, _ := os.Hostname(); after != before {
		t.Errorf("this machine's host name changed from %q to %q", before, after)
	}
	return false
}

// TestHostName takes a host name and a NetBIOS alias in a UTS namespace of
// its own and with a real smbd: smbclient lists the shares calling the
// server by the alias, testparm (Samba's own parser) reads the alias from
// the configuration smbd runs with; destroy gives back the host name it
// replaced and takes the alias away.
func TestHostName(t *testing.T) {
	if !inOwnUTS(t) {
		return
	}
	s := newSambaEnv(t)
	testparm := testenv.Command(t, "testparm", "samba-common-bin")
	shares := newResourceEnv(t, "share")
	shares.create(s.shareConfig(shares, "data", t.TempDir(), nil))
	e := newResourceEnv(t, "host_name")
	original, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	aliasesOf := func() string {
		out, err := exec.Command(testparm, "-s", "--parameter-name", "netbios aliases", s.srv.Conf).Output()
		if err != nil {
			t.Fatalf("testparm: %v", err)
		}
		return strings.TrimSpace(string(out))
	}

	config := e.config(map[string]cty.Value{"host": host.Config{Name: "fs2"}.Value(), "name": cty.StringVal("fs1"),
		"netbios_aliases": cty.ListVal([]cty.Value{cty.StringVal("FS1")}), "smb_conf": cty.StringVal(s.srv.Conf)})
	plan := e.plan(cty.NullVal(e.objectType()), config)
	if want := "+ host name fs1 on fs2 (NetBIOS alias FS1)"; plan.Description != want {
		t.Errorf("description %q, want %q", plan.Description, want)
	}
	resp := e.apply(cty.NullVal(e.objectType()), plan.Planned)
	if resp.Diagnostics.HasErrors() {
		t.Fatal(errorText(resp.Diagnostics))
	}
	state := resp.New
	if got, _ := os.Hostname(); got != "fs1" {
		t.Errorf("host name %q after apply, want fs1", got)
	}
	if got := state.GetAttr("previous"); !got.RawEquals(cty.StringVal(original)) {
		t.Errorf("previous %#v, want %q", got, original)
	}
	if got := aliasesOf(); got != "FS1" {
		t.Errorf("netbios aliases %q after apply, want FS1", got)
	}
	listed, err := s.srv.List(t.Context(), s.smbclient, "FS1", "CLIENT")
	if err != nil || !strings.Contains(strings.ToLower(strings.Join(shareNames(listed), " ")), "data") {
		t.Errorf("smbclient -L //FS1: %v, %v", listed, err)
	}
	if got := e.read(state); !got.RawEquals(state) {
		t.Errorf("read after create differs:\n%#v\n%#v", got, state)
	}

	// Changed behind Drover's back: refresh sees it.
	if out, err := exec.Command("hostname", "other").CombinedOutput(); err != nil {
		t.Fatalf("hostname other: %v: %s", err, out)
	}
	drifted := e.read(state)
	if got := drifted.GetAttr("name"); !got.RawEquals(cty.StringVal("other")) {
		t.Errorf("read after hostname other: name %#v", got)
	}
	plan = e.plan(drifted, config)
	if want := "~ host name other -> fs1 on fs2 (NetBIOS alias FS1)"; plan.Description != want {
		t.Errorf("description %q, want %q", plan.Description, want)
	}
	if resp := e.apply(drifted, plan.Planned); resp.Diagnostics.HasErrors() {
		t.Fatal(errorText(resp.Diagnostics))
	}
	if got, _ := os.Hostname(); got != "fs1" {
		t.Errorf("host name %q after the repair, want fs1", got)
	}

	e.destroy(state)
	if got, _ := os.Hostname(); got != original {
		t.Errorf("host name %q after destroy, want %q back", got, original)
	}
	if got := aliasesOf(); got != "" {
		t.Errorf("netbios aliases %q after destroy, want none", got)
	}
}

func shareNames(shares []sambatest.Share) []string {
	var names []string
	for _, s := range shares {
		names = append(names, s.Name)
	}
	return names
}

// TestHostNameInPinnedUTS takes a host name for a host whose network
// namespace has a UTS namespace pinned for it (as a drill's has): the name
// is taken, read and given back there, and the test's own host name never
// changes (the test runs in a UTS namespace of its own, in case it did).
func TestHostNameInPinnedUTS(t *testing.T) {
	if !inOwnUTS(t) {
		return
	}
	nsenter := testenv.Command(t, "nsenter", "util-linux")
	unshare := testenv.Command(t, "unshare", "util-linux")
	cfg := host.Config{Name: "fs2", Netns: "drover-t-" + strings.ToLower(t.Name())}
	pin := cfg.UTSPin()
	if err := os.MkdirAll(filepath.Dir(pin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pin, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("umount", pin).Run(); os.Remove(pin) })
	if out, err := exec.Command(unshare, "--uts="+pin, "hostname", "pinned").CombinedOutput(); err != nil {
		t.Fatalf("unshare --uts=%s: %v: %s", pin, err, out)
	}
	inPin := func() string {
		out, err := exec.Command(nsenter, "--uts="+pin, "hostname").Output()
		if err != nil {
			t.Fatalf("nsenter --uts=%s hostname: %v", pin, err)
		}
		return strings.TrimSpace(string(out))
	}
	own, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}

	e := newResourceEnv(t, "host_name")
	config := e.config(map[string]cty.Value{"host": cfg.Value(), "name": cty.StringVal("fs1")})
	plan := e.plan(cty.NullVal(e.objectType()), config)
	resp := e.apply(cty.NullVal(e.objectType()), plan.Planned)
	if resp.Diagnostics.HasErrors() {
		t.Fatal(errorText(resp.Diagnostics))
	}
	state := resp.New
	if got := inPin(); got != "fs1" {
		t.Errorf("host name %q in the pinned namespace after apply, want fs1", got)
	}
	if got := state.GetAttr("previous"); !got.RawEquals(cty.StringVal("pinned")) {
		t.Errorf("previous %#v, want the pinned namespace's %q", got, "pinned")
	}
	if got := e.read(state); !got.RawEquals(state) {
		t.Errorf("read after create differs:\n%#v\n%#v", got, state)
	}
	if got, _ := os.Hostname(); got != own {
		t.Errorf("the test's own host name changed from %q to %q", own, got)
	}
	e.destroy(state)
	if got := inPin(); got != "pinned" {
		t.Errorf("host name %q in the pinned namespace after destroy, want pinned back", got)
	}
	if got, _ := os.Hostname(); got != own {
		t.Errorf("the test's own host name changed from %q to %q", own, got)
	}

	// The pin gone with its network namespace (a drill torn down): the
	// name is refused, never taken in the machine's own namespace.
	if out, err := exec.Command("umount", pin).CombinedOutput(); err != nil {
		t.Fatalf("umount %s: %v: %s", pin, err, out)
	}
	os.Remove(pin)
	h := host.NewLocal("fs2", "")
	if err := setHostName(t.Context(), h, cfg.Netns, "fs1"); err == nil || !strings.Contains(err.Error(), "is not there") {
		t.Errorf("setHostName without the pin or the namespace: %v, want refused", err)
	}
	if got, _ := os.Hostname(); got != own {
		t.Errorf("the test's own host name changed from %q to %q", own, got)
	}
}
