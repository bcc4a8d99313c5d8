package vm

import (
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/vmware/govmomi/object"
	"github.com/zclconf/go-cty/cty"
)

// Defaults of the arguments a configuration may leave out.
const (
	defaultMemory      = "256MiB"
	defaultCPUs        = 1
	defaultAccelerator = "auto"
	defaultStopTimeout = "30s"
	defaultBootTimeout = "60s"
	// stateSuffix names the default state folder: beside the console file.
	stateSuffix = ".qemu"
)

// guest is a vm_guest's configuration in Go form, defaults applied.
type guest struct {
	host        host.Config
	hypervisor  string
	name        string
	memoryMiB   int64
	cpus        int64
	disks       []string
	folders     []sharedFolder
	serial      string
	stateDir    string
	snapshot    bool
	agent       bool
	running     bool
	accelerator string
	stopTimeout time.Duration
	check       *bootCheck
}

// bootCheck is how a start knows the guest is up.
type bootCheck struct {
	serial  string
	tcp     string
	timeout time.Duration
}

// parseGuest reads v, a vm_guest value; arguments not known yet (at plan
// time) are skipped.
func parseGuest(v cty.Value) (*guest, providers.Diagnostics) {
	var diags providers.Diagnostics
	g := &guest{running: true}
	bad := func(attr, summary, format string, args ...any) {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath(attr), summary, format, args...))
	}
	str := func(attr, def string) (string, bool) {
		a := v.GetAttr(attr)
		switch {
		case !a.IsKnown():
			return "", false
		case a.IsNull():
			return def, def != ""
		}
		return a.AsString(), true
	}

	if h := v.GetAttr("host"); h.IsWhollyKnown() {
		c, err := host.ConfigFromValue(h)
		if err != nil {
			bad("host", "Invalid host", "%s.", err)
		}
		g.host = c
	}
	if s, ok := str("hypervisor", "qemu"); ok {
		if s != "qemu" && s != "libvirt" && s != "vsphere" {
			bad("hypervisor", "Unsupported hypervisor", "hypervisor = %q: give \"qemu\" (QEMU started by Drover), \"libvirt\" (a domain of libvirtd, provider setting libvirt_uri) or \"vsphere\" (a VM of the provider's vsphere_url).", s)
		}
		g.hypervisor = s
	}
	if s, ok := str("memory", defaultMemory); ok {
		n, err := parseMiB(s)
		if err != nil {
			bad("memory", "Invalid memory size", "%s.", err)
		}
		g.memoryMiB = n
	}
	g.cpus = defaultCPUs
	if c := v.GetAttr("cpus"); c.IsKnown() && !c.IsNull() {
		n, acc := c.AsBigFloat().Int64()
		if acc != 0 || n < 1 || n > 64 {
			bad("cpus", "Invalid CPU count", "cpus = %s: give a whole number from 1 to 64.", c.AsBigFloat().String())
		}
		g.cpus = n
	}
	if d := v.GetAttr("disks"); d.IsWhollyKnown() && !d.IsNull() {
		if d.LengthInt() == 0 {
			bad("disks", "No disks", "A guest needs at least one disk to boot from: disks = [\"/srv/system.img\"].")
		}
		for _, e := range d.AsValueSlice() {
			if e.IsNull() {
				bad("disks", "Invalid disk", "A disk path is null.")
				continue
			}
			p := e.AsString()
			if g.hypervisor == "vsphere" {
				var dp object.DatastorePath
				if !dp.FromString(p) || dp.Datastore == "" || dp.Path == "" {
					bad("disks", "Invalid disk", "The disk %q of a vSphere guest must be a datastore path, like \"[datastore1] fs1/system.img\".", p)
				}
			} else if !path.IsAbs(p) {
				bad("disks", "Invalid disk", "The disk %q must be an absolute path of an image file on the host, like \"/srv/system.img\".", p)
			}
			g.disks = append(g.disks, p)
		}
	}
	if s, ok := str("serial", ""); ok {
		if !path.IsAbs(s) || strings.HasSuffix(s, "/") {
			bad("serial", "Invalid console file", "serial = %q must be an absolute path of a file on the host, like \"/var/lib/drover/fs1.serial\".", s)
		}
		g.serial = s
	}
	if v.GetAttr("serial").IsNull() && g.hypervisor != "" && g.hypervisor != "vsphere" {
		bad("serial", "Missing console file", "A %s guest keeps its console in a file: serial = \"/var/lib/drover/fs1.serial\".", g.hypervisor)
	}
	g.stateDir = g.serial + stateSuffix
	g.name = defaultName(g.serial)
	if s, ok := str("name", ""); ok {
		if s == "" || strings.ContainsAny(s, "/\x00\n") {
			bad("name", "Invalid guest name", "name = %q: give a name of one line without a slash, like \"fs1\".", s)
		}
		g.name = s
	} else if n := v.GetAttr("name"); n.IsNull() && g.serial == "" && g.hypervisor == "vsphere" {
		bad("name", "Missing guest name", "A vSphere guest without a console file needs a name: name = \"fs1\".")
	}
	if s, ok := str("state_dir", ""); ok {
		if !path.IsAbs(s) {
			bad("state_dir", "Invalid state folder", "state_dir = %q must be an absolute path of a folder on the host.", s)
		}
		g.stateDir = s
	}
	if b := v.GetAttr("snapshot"); b.IsKnown() && !b.IsNull() {
		g.snapshot = b.True()
	}
	if b := v.GetAttr("guest_agent"); b.IsKnown() && !b.IsNull() {
		g.agent = b.True()
		if g.agent && g.hypervisor == "vsphere" {
			bad("guest_agent", "Guest agent not supported", "guest_agent is for qemu and libvirt guests; a vSphere VM's tools are vSphere's to configure.")
		}
	}
	if b := v.GetAttr("running"); b.IsKnown() && !b.IsNull() {
		g.running = b.True()
	}
	if s, ok := str("accelerator", defaultAccelerator); ok {
		if s != "auto" && s != "kvm" && s != "tcg" {
			bad("accelerator", "Invalid accelerator", "accelerator = %q: give \"auto\" (KVM when it works, else TCG), \"kvm\" or \"tcg\".", s)
		}
		g.accelerator = s
	}
	if s, ok := str("stop_timeout", defaultStopTimeout); ok {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			bad("stop_timeout", "Invalid duration", "stop_timeout = %q: give a duration like \"30s\".", s)
		}
		g.stopTimeout = d
	}
	if sf := v.GetAttr("shared_folder"); sf.IsWhollyKnown() && !sf.IsNull() {
		for i, e := range sf.AsValueSlice() {
			at := cty.GetAttrPath("shared_folder").IndexInt(i)
			f := sharedFolder{path: e.GetAttr("path").AsString(), image: e.GetAttr("image").AsString()}
			if !path.IsAbs(f.path) || !path.IsAbs(f.image) || strings.HasSuffix(f.image, "/") {
				diags = append(diags, providers.AttrErrorf(at, "Invalid shared folder",
					"path = %q and image = %q must be absolute paths of a folder and of the image file Drover makes from it, like \"/replica/fs1/share\" and \"/var/lib/drover/fs1-share.img\".", f.path, f.image))
			}
			g.folders = append(g.folders, f)
		}
		if len(g.folders) > 0 && g.hypervisor == "vsphere" {
			bad("shared_folder", "Shared folders not supported", "A vSphere guest mounts no shared folder in this release: replicate the data onto one of its datastore disks.")
		}
	}
	if bc := v.GetAttr("boot_check"); bc.IsKnown() && !bc.IsNull() {
		g.check, diags = parseBootCheck(bc, diags)
		if g.hypervisor == "vsphere" && g.check.serial != "" {
			bad("boot_check", "Console not readable", "Drover cannot read a vSphere guest's console: give tcp = \"HOST:PORT\" of a port the guest opens once up.")
		}
	}
	return g, diags
}

func parseBootCheck(bc cty.Value, diags providers.Diagnostics) (*bootCheck, providers.Diagnostics) {
	at := func(attr string) cty.Path { return cty.GetAttrPath("boot_check").GetAttr(attr) }
	c := &bootCheck{}
	set := 0
	if s := bc.GetAttr("serial"); !s.IsKnown() {
		set++
	} else if !s.IsNull() {
		set++
		c.serial = s.AsString()
		if c.serial == "" || strings.ContainsAny(c.serial, "\r\n") {
			diags = append(diags, providers.AttrErrorf(at("serial"), "Invalid boot marker",
				"The marker must be non-empty text on one line, as the guest prints it to its console."))
		}
	}
	if s := bc.GetAttr("tcp"); !s.IsKnown() {
		set++
	} else if !s.IsNull() {
		set++
		c.tcp = s.AsString()
		if _, port, err := net.SplitHostPort(c.tcp); err != nil || port == "" {
			diags = append(diags, providers.AttrErrorf(at("tcp"), "Invalid address",
				"tcp = %q: give HOST:PORT of a port the guest listens on, like \"192.0.2.10:445\".", c.tcp))
		}
	}
	if set == 0 {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("boot_check"), "Empty boot check",
			"A boot_check needs serial = \"MARKER\" or tcp = \"HOST:PORT\" (or both)."))
	}
	c.timeout, _ = time.ParseDuration(defaultBootTimeout)
	if t := bc.GetAttr("timeout"); t.IsKnown() && !t.IsNull() {
		d, err := time.ParseDuration(t.AsString())
		if err != nil || d <= 0 {
			diags = append(diags, providers.AttrErrorf(at("timeout"), "Invalid duration",
				"timeout = %q: give a duration like \"60s\".", t.AsString()))
		}
		c.timeout = d
	}
	return c, diags
}

// parseMiB reads a memory size in whole MiB: "256MiB", "1GiB".
func parseMiB(s string) (int64, error) {
	for _, u := range []struct {
		suffix string
		mib    int64
	}{{"GiB", 1024}, {"MiB", 1}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
			if err == nil && v > 0 && v <= 1<<20/u.mib {
				return v * u.mib, nil
			}
		}
	}
	return 0, fmt.Errorf("memory = %q: give a whole number of MiB or GiB, like \"256MiB\" or \"2GiB\"", s)
}

// defaultName is a guest's name on its hypervisor when the configuration
// gives none: the console file's name without its extension.
func defaultName(serial string) string {
	base := path.Base(serial)
	if n := strings.TrimSuffix(base, path.Ext(base)); n != "" {
		return n
	}
	return base
}

// allDisks lists the image files the guest is started from: its disks,
// then its shared folders' images.
func (g *guest) allDisks() []string {
	all := append([]string(nil), g.disks...)
	for _, f := range g.folders {
		all = append(all, f.image)
	}
	return all
}
