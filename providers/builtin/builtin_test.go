package builtin

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/disk/grubenv"
	"github.com/drover-dr/drover/providers/builtin/network/dnstest"
	"github.com/drover-dr/drover/providers/builtin/network/sambatest"
	"github.com/drover-dr/drover/providers/builtin/registry/regstore"
	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
	"github.com/drover-dr/drover/providers/builtin/vm/bootsector"
	"github.com/drover-dr/drover/providers/conformance"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"
)

// pluginExe is the test plugin binary built by TestMain.
var pluginExe string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "drover-builtin-")
	if err != nil {
		panic(err)
	}
	pluginExe = filepath.Join(dir, "plugin")
	out, err := exec.Command("go", "build", "-o", pluginExe, "./testdata/plugin").CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		panic("building the test plugin: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cases gives each built-in provider's conformance cases; files live below
// a host rooted at root.
var cases = map[string]func(t *testing.T, root string) []conformance.Case{
	"core":        coreCases,
	"disk":        diskCases,
	"network":     networkCases,
	"registry":    registryCases,
	"replication": replicationCases,
	"vm":          vmCases,
}

// diskCases covers drives and copies (below /srv) and boot entries.
func diskCases(t *testing.T, root string) []conformance.Case {
	return append(driveCases(t, root), bootCases(t, root)...)
}

func driveCases(t *testing.T, root string) []conformance.Case {
	h := host.Config{Name: "fs1", Root: root}.Value()
	if err := os.MkdirAll(filepath.Join(root, "srv"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := make([]byte, 1<<20)
	for i := range src {
		src[i] = byte(i * 31)
	}
	if err := os.WriteFile(filepath.Join(root, "srv/system.img"), src, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "srv/dpsr.img"), make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	str := cty.StringVal
	obj := func(attrs map[string]cty.Value) cty.Value { return cty.ObjectVal(attrs) }
	// By default a destroy forgets drives and copies, leaving them on the
	// host; the suite checks that a delete deletes, so they ask for it.
	del := cty.True
	return []conformance.Case{
		{Name: "drive image", TypeName: "drive", External: true,
			Config: obj(map[string]cty.Value{"host": h, "path": str("/srv/new.img"), "size": str("1MiB"), "delete_on_destroy": del}),
			Update: obj(map[string]cty.Value{"host": h, "path": str("/srv/new.img"), "size": str("2MiB"), "delete_on_destroy": del})},
		{Name: "drive_copy", TypeName: "drive_copy", External: true,
			Config: obj(map[string]cty.Value{"host": h, "source": str("/srv/system.img"), "target": str("/srv/dpsr.img"), "delete_on_destroy": del}),
			Update: obj(map[string]cty.Value{"host": h, "source": str("/srv/system.img"), "target": str("/srv/dpsr.img"),
				"verify": str("full"), "block_size": cty.NumberIntVal(4096), "quiesce": str("100ms"), "delete_on_destroy": del})},
	}

}

func bootCases(t *testing.T, root string) []conformance.Case {
	bootIni := "[boot loader]\r\ntimeout=30\r\ndefault=multi(0)disk(0)rdisk(0)partition(1)\\WINNT\r\n[operating systems]\r\n" +
		"multi(0)disk(0)rdisk(0)partition(1)\\WINNT=\"FS2\" /fastdetect\r\n"
	if err := os.MkdirAll(filepath.Join(root, "boot", "grub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "boot.ini"), []byte(bootIni), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "boot", "grub", "grubenv"), grubenv.New("grubenv").Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	hv := host.Config{Name: "fs2", Root: root}.Value()
	str := cty.StringVal
	obj := func(attrs map[string]cty.Value) cty.Value { return cty.ObjectVal(attrs) }
	source := str(`multi(0)disk(0)rdisk(0)partition(2)\WINNT`)
	return []conformance.Case{
		{Name: "bootini", TypeName: "boot_entry", External: true,
			Config: obj(map[string]cty.Value{"host": hv, "loader": str("bootini"), "path": source, "label": str("FS1"), "options": str("/fastdetect")}),
			Update: obj(map[string]cty.Value{"host": hv, "loader": str("bootini"), "path": source, "label": str("FS1 (replica)"),
				"default": cty.True, "timeout": cty.NumberIntVal(5)})},
		{Name: "grub", TypeName: "boot_entry",
			Config: obj(map[string]cty.Value{"host": hv, "loader": str("grub"), "label": str("Windows Server"), "default": cty.True}),
			Update: obj(map[string]cty.Value{"host": hv, "loader": str("grub"), "label": str("Windows Server"), "default": cty.True, "once": cty.True})},
	}
}

func coreCases(t *testing.T, root string) []conformance.Case {
	h := host.Config{Name: "fs1", Root: root}.Value()
	id, err := json.Marshal(map[string]any{"host": map[string]any{"name": "fs1", "root": root}, "path": "/etc/motd"})
	if err != nil {
		t.Fatal(err)
	}
	str := cty.StringVal
	obj := func(attrs map[string]cty.Value) cty.Value { return cty.ObjectVal(attrs) }
	return []conformance.Case{
		{Name: "value in place", TypeName: "value",
			Config: obj(map[string]cty.Value{"input": str("a")}),
			Update: obj(map[string]cty.Value{"input": obj(map[string]cty.Value{"n": cty.NumberIntVal(1), "l": cty.TupleVal([]cty.Value{str("x")})})})},
		{Name: "value replaced", TypeName: "value",
			Config: obj(map[string]cty.Value{"input": cty.True, "triggers_replace": str("v1")}),
			Update: obj(map[string]cty.Value{"input": cty.True, "triggers_replace": str("v2")})},
		{Name: "value empty", TypeName: "value", Config: obj(nil)},
		{Name: "file", TypeName: "file", External: true,
			Config:   obj(map[string]cty.Value{"host": h, "path": str("/etc/motd"), "content": str("hello\n")}),
			Update:   obj(map[string]cty.Value{"host": h, "path": str("/etc/motd"), "content": str("bye\n"), "mode": str("0600")}),
			ImportID: string(id)},
		{Name: "file sensitive", TypeName: "file", External: true,
			Config: obj(map[string]cty.Value{"host": h, "path": str("/etc/secret"), "sensitive_content": str("pw")}),
			Update: obj(map[string]cty.Value{"host": h, "path": str("/etc/secret"), "sensitive_content": str("pw2")})},
		{Name: "file binary moved", TypeName: "file", External: true,
			Config: obj(map[string]cty.Value{"host": h, "path": str("/srv/a.reg"), "content_base64": str("//4AAFIA")}),
			Update: obj(map[string]cty.Value{"host": h, "path": str("/srv/b.reg"), "content_base64": str("//4AAFIA"), "mode": str("0755")})},
	}
}

// networkCases change a record on a real knotd and take an address in a
// network namespace of their own.
func networkCases(t *testing.T, root string) []conformance.Case {
	srv := dnstest.New(t, testenv.Command(t, "knotd", "knot"))
	ns := testNamespace(t)
	str := cty.StringVal
	record := func(ttl int64, values ...string) cty.Value {
		vals := make([]cty.Value, 0, len(values))
		for _, v := range values {
			vals = append(vals, str(v))
		}
		return cty.ObjectVal(map[string]cty.Value{"server": str(srv.Addr), "zone": str(dnstest.Zone), "name": str("app"),
			"type": str("A"), "ttl": cty.NumberIntVal(ttl), "values": cty.SetVal(vals),
			"tsig": cty.ObjectVal(map[string]cty.Value{"name": str(srv.Key.Name), "algorithm": str(srv.Key.Algorithm), "secret": str(srv.Key.Secret)})})
	}
	address := func(attrs map[string]cty.Value) cty.Value {
		m := map[string]cty.Value{"host": host.Config{Name: "fs1", Netns: ns}.Value(), "interface": str("eth0"), "address": str("192.0.2.10/24")}
		for k, v := range attrs {
			m[k] = v
		}
		return cty.ObjectVal(m)
	}
	smb := sambatest.New(t, testenv.Command(t, "smbd", "samba"))
	testenv.Command(t, "smbcontrol", "samba-common-bin")
	data := t.TempDir()
	share := func(attrs map[string]cty.Value) cty.Value {
		m := map[string]cty.Value{"host": host.Config{Name: "fs1"}.Value(), "name": str("data"), "path": str(data), "smb_conf": str(smb.Conf)}
		for k, v := range attrs {
			m[k] = v
		}
		return cty.ObjectVal(m)
	}
	// The identity's parts are the other cases' objects under other names:
	// another address, record and share.
	identity := func(ttl int64, comment cty.Value) cty.Value {
		rec := record(ttl, "192.0.2.11").AsValueMap()
		rec["name"] = str("fs1")
		return cty.ObjectVal(map[string]cty.Value{"host": host.Config{Name: "fs1", Netns: ns}.Value(), "smb_conf": str(smb.Conf),
			"address": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"interface": str("eth0"), "address": str("192.0.2.11/24"),
				"force": cty.NullVal(cty.Bool), "announce": cty.NullVal(cty.Bool)})}),
			"dns_record": cty.ListVal([]cty.Value{cty.ObjectVal(rec)}),
			"share": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"name": str("public"), "path": str(data),
				"read_only": cty.NullVal(cty.Bool), "comment": comment, "protocol": cty.NullVal(cty.String)})})})
	}
	return []conformance.Case{
		{Name: "dns_record", TypeName: "dns_record", External: true,
			Config: record(300, "192.0.2.20"), Update: record(60, "192.0.2.20", "192.0.2.21")},
		{Name: "ip_address", TypeName: "ip_address", External: true,
			Config: address(nil), Update: address(map[string]cty.Value{"force": cty.True, "announce": cty.False})},
		{Name: "share", TypeName: "share", External: true,
			Config: share(nil), Update: share(map[string]cty.Value{"read_only": cty.False, "comment": str("fs1's data")})},
		// host_name is left out: the suite runs in this process and its
		// plugin, whose host name is this machine's.
		{Name: "network_identity", TypeName: "network_identity", External: true,
			Config: identity(300, cty.NullVal(cty.String)), Update: identity(60, str("moved"))},
	}
}

// testNamespace is a network namespace, deleted when t ends, whose eth0
// (a veth whose peer is eth1) has 192.0.2.1/24.
func testNamespace(t *testing.T) string {
	testenv.Root(t)
	ip := testenv.Command(t, "ip", "iproute2")
	b := make([]byte, 3)
	rand.Read(b)
	ns := "drover-t-conf-" + hex.EncodeToString(b)
	run := func(args ...string) {
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() { run("netns", "del", ns) })
	run("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
	run("-n", ns, "addr", "add", "192.0.2.1/24", "dev", "eth0")
	run("-n", ns, "link", "set", "eth0", "up")
	run("-n", ns, "link", "set", "eth1", "up")
	return ns
}

func registryCases(t *testing.T, root string) []conformance.Case {
	h := host.NewLocal("fs1", root)
	defer h.Close()
	ctx := t.Context()
	if err := regstore.CreateHive(ctx, h, "/config/SOFTWARE"); err != nil {
		t.Fatal(err)
	}
	s, err := regstore.Open(h, false, regstore.Options{Hive: "/config/SOFTWARE"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := regtext.Decode("seed.reg", []byte("REGEDIT4\n\n[\\Vendor\\Product]\n\"Port\"=dword:00000050\n\n[\\Vendor\\Product\\Sub]\n@=\"x\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, doc.Keys, nil); err != nil {
		t.Fatal(err)
	}
	hv := host.Config{Name: "fs1", Root: root}.Value()
	str := cty.StringVal
	obj := func(attrs map[string]cty.Value) cty.Value { return cty.ObjectVal(attrs) }
	return []conformance.Case{
		{Name: "capture", TypeName: "registry_capture", External: true,
			Config: obj(map[string]cty.Value{"host": hv, "hive": str("/config/SOFTWARE"), "key": str(`\Vendor`), "file": str("/srv/repset/product.reg")}),
			Update: obj(map[string]cty.Value{"host": hv, "hive": str("/config/SOFTWARE"), "key": str(`\Vendor\Product`), "file": str("/srv/repset/product.reg"),
				"recursive": cty.False, "encoding": str("utf-8"), "prefix": str(`HKEY_LOCAL_MACHINE\SOFTWARE`)})},
		{Name: "capture moved", TypeName: "registry_capture", External: true,
			Config: obj(map[string]cty.Value{"host": hv, "hive": str("/config/SOFTWARE"), "key": str(`\`), "file": str("/srv/a.reg")}),
			Update: obj(map[string]cty.Value{"host": hv, "hive": str("/config/SOFTWARE"), "key": str(`\`), "file": str("/srv/b.reg")})},
	}
}

func replicationCases(t *testing.T, root string) []conformance.Case {
	for _, f := range []string{"srv/set/a.txt", "srv/set/docs/b.txt", "srv/set/c.tmp"} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := host.Config{Name: "fs1", Root: root}.Value()
	str := cty.StringVal
	endpoint := func(path string) cty.Value { return cty.ObjectVal(map[string]cty.Value{"host": h, "path": str(path)}) }
	set := func(attrs map[string]cty.Value) cty.Value {
		m := map[string]cty.Value{"source": cty.ListVal([]cty.Value{endpoint("/srv/set")}), "target": endpoint("/replica")}
		for k, v := range attrs {
			m[k] = v
		}
		return cty.ObjectVal(m)
	}
	return []conformance.Case{
		{Name: "replication_set", TypeName: "replication_set",
			Config: set(map[string]cty.Value{"delete_orphans": cty.True}),
			Update: set(map[string]cty.Value{"delete_orphans": cty.True, "exclude": cty.ListVal([]cty.Value{str("*.tmp")}),
				"checksum": cty.True, "preserve": cty.ListVal([]cty.Value{str("mode"), str("mtime")}), "bandwidth": str("100MiB/s")})},
	}
}

func TestConformanceInProcess(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "fs1")
			f := func() (providers.Provider, error) { return sdk.New(Provider(name)), nil }
			conformance.Run(t, f, casesFor(t, name, root))
		})
	}
}

func TestConformanceThroughPlugin(t *testing.T) {
	logger := hclog.New(&hclog.LoggerOptions{Output: testWriter{t}, Level: hclog.Warn})
	for _, e := range Entries(pluginExe, logger) {
		t.Run(e.Name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "fs1")
			conformance.Run(t, e.Factory, casesFor(t, e.Name, root))
		})
	}
}

func casesFor(t *testing.T, name, root string) []conformance.Case {
	f, ok := cases[name]
	if !ok {
		t.Fatalf("built-in provider %q has no conformance cases", name)
	}
	return f(t, root)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestEntries(t *testing.T) {
	entries := Entries(pluginExe, hclog.NewNullLogger())
	if len(entries) != len(builtins) || entries[0].Name != "core" || !slices.Equal(entries[0].Types, []string{"check", "file", "run", "value", "wait"}) {
		t.Fatalf("entries %+v", entries)
	}
	reg := providers.NewRegistry(entries...)
	defer reg.Close()
	for _, typ := range []string{"file", "value"} {
		if name, ok := reg.Resolve(typ, ""); !ok || name != "core" {
			t.Errorf("Resolve(%q) = %q, %v", typ, name, ok)
		}
	}
	_, s, err := reg.Get(t.Context(), "core")
	if err != nil {
		t.Fatal(err)
	}
	if !s.ResourceTypes["value"].StateOnly || s.ResourceTypes["file"].StateOnly {
		t.Errorf("state-only flags: value %v, file %v", s.ResourceTypes["value"].StateOnly, s.ResourceTypes["file"].StateOnly)
	}
	if Provider("nope") != nil {
		t.Error("Provider of an unknown name is not nil")
	}
}

func TestServeUnknown(t *testing.T) {
	out, err := exec.Command(pluginExe, "internal-plugin", "nope").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `no built-in provider named "nope" (built-ins: `+strings.Join(Names(), ", ")+")") {
		t.Errorf("serving an unknown provider: %v, %s", err, out)
	}
}

// BenchmarkValueThroughPlugin measures one plan and one apply of a value
// resource through a real plugin process: one caller at a time (latency),
// and ten at once as the planner and executor call (throughput, which the
// plugin client batches).
func BenchmarkValueThroughPlugin(b *testing.B) {
	p, err := Entries(pluginExe, hclog.NewNullLogger())[0].Factory()
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := b.Context()
	ty := Provider("core").Resources["value"].Schema.Block.ImpliedType()
	none := cty.NullVal(ty)
	config := cty.ObjectVal(map[string]cty.Value{"input": cty.StringVal("x"), "triggers_replace": cty.NullVal(cty.DynamicPseudoType),
		"output": cty.NullVal(cty.DynamicPseudoType), "id": cty.NullVal(cty.String)})
	roundTrip := func() error {
		plan := p.Plan(ctx, providers.PlanRequest{TypeName: "value", Prior: none, Config: config})
		if resp := p.Apply(ctx, providers.ApplyRequest{TypeName: "value", Prior: none, Planned: plan.Planned}); resp.Diagnostics.HasErrors() {
			return fmt.Errorf("%v", resp.Diagnostics)
		}
		return nil
	}
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := roundTrip(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel10", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(5)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := roundTrip(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// vmCases boots a boot sector with QEMU and stops it again.
func vmCases(t *testing.T, root string) []conformance.Case {
	testenv.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	sector, err := bootsector.Image("CONFORMANCE READY")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "srv"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "srv/guest.img"), append(sector, make([]byte, 64<<10)...), 0o600); err != nil {
		t.Fatal(err)
	}
	h := host.Config{Name: "fs2", Root: root}.Value()
	str := cty.StringVal
	guest := func(running bool) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"host": h, "disks": cty.ListVal([]cty.Value{str("/srv/guest.img")}),
			"serial": str("/srv/guest.serial"), "running": cty.BoolVal(running), "stop_timeout": str("1s"), "accelerator": str("tcg"),
			"boot_check": cty.ObjectVal(map[string]cty.Value{"serial": str("CONFORMANCE READY"), "tcp": cty.NullVal(cty.String), "timeout": str("60s")})})
	}
	return []conformance.Case{{Name: "vm_guest", TypeName: "vm_guest", External: true, Config: guest(true), Update: guest(false)}}
}
