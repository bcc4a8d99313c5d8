package vm

import (
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

// TestValidateGuest: each wrong argument gets an error on its own path
// saying what to write instead.
func TestValidateGuest(t *testing.T) {
	str := cty.StringVal
	base := func(attrs map[string]cty.Value) cty.Value {
		v := map[string]cty.Value{}
		for name, ty := range guestType.AttributeTypes() {
			v[name] = cty.NullVal(ty)
		}
		v["host"] = host.Config{Name: "fs2", Root: "/tmp/fs2"}.Value()
		v["disks"] = cty.ListVal([]cty.Value{str("/srv/fs1.img")})
		v["serial"] = str("/var/lib/drover/fs1.serial")
		for k, a := range attrs {
			v[k] = a
		}
		return cty.ObjectVal(v)
	}
	bootCheck := func(serial, tcp, timeout cty.Value) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"serial": serial, "tcp": tcp, "timeout": timeout})
	}
	null := cty.NullVal(cty.String)
	tests := []struct {
		name  string
		attrs map[string]cty.Value
		path  string
		want  string
	}{
		{"valid", nil, "", ""},
		{"remote host", map[string]cty.Value{"host": host.Config{Name: "fs2", Transport: "ssh", Address: "fs2.example.net"}.Value()},
			"", ""},
		{"libvirt", map[string]cty.Value{"hypervisor": str("libvirt")}, "", ""},
		{"another hypervisor", map[string]cty.Value{"hypervisor": str("xen")}, "hypervisor", `give "qemu" (QEMU started by Drover), "libvirt"`},
		{"vSphere disk as a file", map[string]cty.Value{"hypervisor": str("vsphere")}, "disks", `must be a datastore path, like "[datastore1] fs1/system.img"`},
		{"vSphere console marker", map[string]cty.Value{"hypervisor": str("vsphere"), "disks": cty.ListVal([]cty.Value{str("[ds1] fs1/fs1.img")}),
			"boot_check": bootCheck(str("UP"), null, null)}, "boot_check", "cannot read a vSphere guest's console"},
		{"vSphere without a name", map[string]cty.Value{"hypervisor": str("vsphere"), "disks": cty.ListVal([]cty.Value{str("[ds1] fs1/fs1.img")}),
			"serial": null}, "name", `needs a name: name = "fs1"`},
		{"no console", map[string]cty.Value{"serial": null}, "serial", "keeps its console in a file"},
		{"relative shared folder", map[string]cty.Value{"shared_folder": sharedFolders(sharedFolder{path: "share", image: "/var/lib/drover/s.img"})},
			"shared_folder.0", "must be absolute paths of a folder and of the image file"},
		{"disks and folders beyond four", map[string]cty.Value{"disks": cty.ListVal([]cty.Value{str("/a"), str("/b"), str("/c")}),
			"shared_folder": sharedFolders(sharedFolder{"/s", "/s1.img"}, sharedFolder{"/t", "/t1.img"})}, "disks", "shared folders' images included; it has 5"},
		{"vSphere shared folder", map[string]cty.Value{"hypervisor": str("vsphere"), "disks": cty.ListVal([]cty.Value{str("[ds1] fs1/fs1.img")}),
			"shared_folder": sharedFolders(sharedFolder{"/s", "/s1.img"})}, "shared_folder", "mounts no shared folder in this release"},
		{"name with a slash", map[string]cty.Value{"name": str("a/b")}, "name", "without a slash"},
		{"memory in bytes", map[string]cty.Value{"memory": str("268435456")}, "memory", `give a whole number of MiB or GiB, like "256MiB"`},
		{"no cpus", map[string]cty.Value{"cpus": cty.NumberIntVal(0)}, "cpus", "give a whole number from 1 to 64"},
		{"relative disk", map[string]cty.Value{"disks": cty.ListVal([]cty.Value{str("srv/fs1.img")})}, "disks", "must be an absolute path"},
		{"no disks", map[string]cty.Value{"disks": cty.ListValEmpty(cty.String)}, "disks", "at least one disk"},
		{"five disks", map[string]cty.Value{"disks": cty.ListVal([]cty.Value{str("/a"), str("/b"), str("/c"), str("/d"), str("/e")})},
			"disks", "at most 4 disks"},
		{"relative console", map[string]cty.Value{"serial": str("fs1.serial")}, "serial", "must be an absolute path of a file"},
		{"accelerator", map[string]cty.Value{"accelerator": str("hvf")}, "accelerator", `give "auto"`},
		{"stop timeout", map[string]cty.Value{"stop_timeout": str("soon")}, "stop_timeout", `like "30s"`},
		{"empty boot check", map[string]cty.Value{"boot_check": bootCheck(null, null, null)}, "boot_check", `serial = "MARKER" or tcp = "HOST:PORT"`},
		{"two-line marker", map[string]cty.Value{"boot_check": bootCheck(str("A\nB"), null, null)}, "boot_check.serial", "on one line"},
		{"port missing", map[string]cty.Value{"boot_check": bootCheck(null, str("192.0.2.10"), null)}, "boot_check.tcp", "give HOST:PORT"},
		{"boot timeout", map[string]cty.Value{"boot_check": bootCheck(str("UP"), null, str("0s"))}, "boot_check.timeout", `like "60s"`},
		{"unknown values", map[string]cty.Value{"memory": cty.UnknownVal(cty.String), "disks": cty.UnknownVal(cty.List(cty.String)),
			"boot_check": bootCheck(cty.UnknownVal(cty.String), null, null)}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diags := validateGuest(t.Context(), base(tt.attrs))
			if tt.want == "" {
				if len(diags) > 0 {
					t.Fatalf("unexpected diagnostics: %s", render(diags))
				}
				return
			}
			if len(diags) != 1 {
				t.Fatalf("want one diagnostic, got: %s", render(diags))
			}
			var path []string
			for _, step := range diags[0].Path {
				switch st := step.(type) {
				case cty.GetAttrStep:
					path = append(path, st.Name)
				case cty.IndexStep:
					path = append(path, st.Key.AsBigFloat().String())
				}
			}
			if got := strings.Join(path, "."); got != tt.path || !strings.Contains(diags[0].Detail, tt.want) {
				t.Errorf("diagnostic on %q: %s\nwant on %q: %s", got, diags[0].Detail, tt.path, tt.want)
			}
		})
	}
}

// TestDomainXML: the libvirt domain of a guest, as libvirt is given it.
func TestDomainXML(t *testing.T) {
	g := &guest{name: "fs1", memoryMiB: 256, cpus: 2, snapshot: true}
	got, err := domainXML(g, "tcg", []string{"/srv/a&b.img", "/srv/data.img"}, "/var/lib/drover/fs1.serial")
	if err != nil {
		t.Fatal(err)
	}
	want := `<domain type="qemu">
  <name>fs1</name>
  <description>Defined by Drover (vm_guest).</description>
  <memory unit="MiB">256</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch="x86_64" machine="pc">hvm</type>
    <boot dev="hd"></boot>
  </os>
  <features>
    <acpi></acpi>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type="file" device="disk">
      <driver name="qemu" type="raw"></driver>
      <source file="/srv/a&amp;b.img"></source>
      <target dev="hda" bus="ide"></target>
      <transient></transient>
    </disk>
    <disk type="file" device="disk">
      <driver name="qemu" type="raw"></driver>
      <source file="/srv/data.img"></source>
      <target dev="hdb" bus="ide"></target>
      <transient></transient>
    </disk>
    <serial type="file">
      <source path="/var/lib/drover/fs1.serial"></source>
      <target port="0"></target>
    </serial>
  </devices>
</domain>`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("domain XML (-want +got):\n%s", diff)
	}
}
