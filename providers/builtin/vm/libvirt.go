package vm

import (
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/vm/guestdisk"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// parseLibvirtURI reads a libvirt connection URI of the QEMU driver on the
// guest's machine. One naming another machine is refused: the guest's
// disks and console are paths of its host, and the host's own transport
// reaches that machine's libvirtd (connectLibvirt).
func parseLibvirtURI(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, fmt.Errorf("libvirt_uri = %q is not a URI: %w", s, err)
	case u.Scheme != "qemu" || u.Host != "":
		return nil, fmt.Errorf("libvirt_uri = %q: give the QEMU connection of the guest's machine, \"qemu:///system\" or \"qemu:///system?socket=PATH\"; a guest's host block says which machine that is", s)
	}
	return u, nil
}

// domain is a guest as one libvirt domain: the XML libvirt is given, and
// read back to tell the accelerator.
type domain struct {
	XMLName     xml.Name      `xml:"domain"`
	Type        string        `xml:"type,attr"`
	Name        string        `xml:"name"`
	Description string        `xml:"description,omitempty"`
	Memory      domainMemory  `xml:"memory"`
	VCPU        int64         `xml:"vcpu"`
	OS          domainOS      `xml:"os"`
	Features    domainFeat    `xml:"features"`
	OnPoweroff  string        `xml:"on_poweroff,omitempty"`
	OnCrash     string        `xml:"on_crash,omitempty"`
	Devices     domainDevices `xml:"devices"`
}

type domainMemory struct {
	Unit  string `xml:"unit,attr"`
	Value int64  `xml:",chardata"`
}

type domainOS struct {
	Type struct {
		Arch    string `xml:"arch,attr"`
		Machine string `xml:"machine,attr"`
		Value   string `xml:",chardata"`
	} `xml:"type"`
	Boot struct {
		Dev string `xml:"dev,attr"`
	} `xml:"boot"`
}

// domainFeat turns on ACPI, which a stop's power-down request needs.
type domainFeat struct {
	ACPI *struct{} `xml:"acpi"`
}

type domainDevices struct {
	Disks   []domainDisk   `xml:"disk"`
	Serial  *domainSerial  `xml:"serial"`
	Channel *domainChannel `xml:"channel"`
}

// domainChannel is the guest agent's channel (guest_agent); libvirt
// picks its socket and talks to the agent itself.
type domainChannel struct {
	Type   string `xml:"type,attr"`
	Target struct {
		Type string `xml:"type,attr"`
		Name string `xml:"name,attr"`
	} `xml:"target"`
}

type domainDisk struct {
	Type   string `xml:"type,attr"`
	Device string `xml:"device,attr"`
	Driver struct {
		Name string `xml:"name,attr"`
		Type string `xml:"type,attr"`
	} `xml:"driver"`
	Source struct {
		File string `xml:"file,attr"`
	} `xml:"source"`
	Target struct {
		Dev string `xml:"dev,attr"`
		Bus string `xml:"bus,attr"`
	} `xml:"target"`
	// Transient sends the guest's writes to an overlay libvirt drops when
	// the guest stops (snapshot = true).
	Transient *struct{} `xml:"transient"`
}

type domainSerial struct {
	Type   string `xml:"type,attr"`
	Source struct {
		Path string `xml:"path,attr"`
	} `xml:"source"`
	Target struct {
		Port int `xml:"port,attr"`
	} `xml:"target"`
}

// domainXML is the libvirt domain of g under accel ("kvm" or "tcg"), with
// the machine paths of its disks and console.
func domainXML(g *guest, accel string, disks []string, serial string) ([]byte, error) {
	d := domain{Type: "qemu", Name: g.name, Description: "Defined by Drover (vm_guest).",
		Memory: domainMemory{Unit: "MiB", Value: g.memoryMiB}, VCPU: g.cpus,
		Features: domainFeat{ACPI: &struct{}{}}, OnPoweroff: "destroy", OnCrash: "destroy"}
	if accel == "kvm" {
		d.Type = "kvm"
	}
	d.OS.Type.Arch, d.OS.Type.Machine, d.OS.Type.Value = "x86_64", "pc", "hvm"
	d.OS.Boot.Dev = "hd"
	for i, p := range disks {
		var dk domainDisk
		dk.Type, dk.Device = "file", "disk"
		dk.Driver.Name, dk.Driver.Type = "qemu", "raw"
		dk.Source.File = p
		// IDE, as the QEMU guests: hda is booted.
		dk.Target.Dev, dk.Target.Bus = "hd"+string(rune('a'+i)), "ide"
		if g.snapshot {
			dk.Transient = &struct{}{}
		}
		d.Devices.Disks = append(d.Devices.Disks, dk)
	}
	if g.agent {
		d.Devices.Channel = &domainChannel{Type: "unix"}
		d.Devices.Channel.Target.Type, d.Devices.Channel.Target.Name = "virtio", "org.qemu.guest_agent.0"
	}
	d.Devices.Serial = &domainSerial{Type: "file"}
	d.Devices.Serial.Source.Path = serial
	return xml.MarshalIndent(d, "", "  ")
}

// libvirtGuest is a guest's domain on the libvirtd of the provider's
// connection.
type libvirtGuest struct {
	h  host.Host
	g  *guest
	lv *libvirt.Libvirt
}

// openDomain parses v and connects to libvirt for it.
func openDomain(ctx context.Context, s *settings, v cty.Value) (*libvirtGuest, providers.Diagnostics) {
	g, diags := parseGuest(v)
	if diags.HasErrors() {
		return nil, diags
	}
	h, err := g.host.Open()
	if err != nil {
		return nil, guestErr("Cannot reach the guest's host", err)
	}
	lv, err := connectLibvirt(ctx, h, s.libvirtURI)
	if err != nil {
		h.Close()
		return nil, providers.Diagnostics{providers.Errorf("Cannot connect to libvirt",
			"%s: %s. Start libvirtd (Debian: libvirt-daemon-system) or set libvirt_uri in the provider \"vm\" block to its socket.", s.libvirtURI, err)}
	}
	return &libvirtGuest{h: h, g: g, lv: lv}, nil
}

// defaultLibvirtSocket is libvirtd's socket for qemu:///system.
const defaultLibvirtSocket = "/var/run/libvirt/libvirt-sock"

// unixDialer is a host whose transport connects to unix sockets of its
// machine: an SSH host, through sshd's stream forwarding.
type unixDialer interface {
	DialUnix(ctx context.Context, path string) (net.Conn, error)
}

// connectLibvirt connects to the libvirtd of uri on h's machine: directly
// on this machine, through h's transport to the same socket elsewhere.
// libvirt's protocol is one long stream (calls, replies, events) that
// libvirtd speaks on its socket, so the stream is carried as it is rather
// than cut into host ops; it needs no agent on the machine either.
func connectLibvirt(ctx context.Context, h host.Host, uri *url.URL) (*libvirt.Libvirt, error) {
	if h.Machine() == "local" {
		return libvirt.ConnectToURI(uri)
	}
	d, ok := h.(unixDialer)
	if !ok {
		return nil, fmt.Errorf("host %q (%s) cannot reach libvirtd's socket on its machine", h.Name(), h.Machine())
	}
	socket := uri.Query().Get("socket")
	if socket == "" {
		socket = defaultLibvirtSocket
	}
	nc, err := d.DialUnix(ctx, socket)
	if err != nil {
		return nil, err
	}
	lv := libvirt.NewWithDialer(dialers.NewAlreadyConnected(nc))
	if err := lv.ConnectToURI(libvirt.RemoteURI(uri)); err != nil {
		nc.Close()
		return nil, fmt.Errorf("libvirtd at %s on host %q: %w", socket, h.Name(), err)
	}
	return lv, nil
}

func (lg *libvirtGuest) Close() error {
	lg.lv.Disconnect()
	return lg.h.Close()
}

// lookup finds the guest's domain; ok is false when libvirt has none of
// that name.
func (lg *libvirtGuest) lookup() (dom libvirt.Domain, ok bool, err error) {
	dom, err = lg.lv.DomainLookupByName(lg.g.name)
	if libvirt.IsNotFound(err) {
		return dom, false, nil
	}
	return dom, err == nil, err
}

// domainStatus names libvirt's domain states as vm_guest's status does:
// libvirt's words, "stopped" for shut off.
func domainStatus(st libvirt.DomainState) string {
	switch st {
	case libvirt.DomainRunning, libvirt.DomainBlocked:
		return "running"
	case libvirt.DomainPaused:
		return "paused"
	case libvirt.DomainShutdown:
		return "shutdown"
	case libvirt.DomainShutoff:
		return statusStopped
	case libvirt.DomainCrashed:
		return "crashed"
	case libvirt.DomainPmsuspended:
		return "suspended"
	}
	return "unknown"
}

func (lg *libvirtGuest) status(dom libvirt.Domain) (string, error) {
	st, _, err := lg.lv.DomainGetState(dom, 0)
	if err != nil {
		return "", fmt.Errorf("libvirt domain %q: %w", lg.g.name, err)
	}
	return domainStatus(libvirt.DomainState(st)), nil
}

// accelInUse reads the domain's type back: "kvm" or "tcg".
func (lg *libvirtGuest) accelInUse(dom libvirt.Domain) (string, error) {
	desc, err := lg.lv.DomainGetXMLDesc(dom, 0)
	if err != nil {
		return "", fmt.Errorf("libvirt domain %q: %w", lg.g.name, err)
	}
	var d domain
	if err := xml.Unmarshal([]byte(desc), &d); err != nil {
		return "", fmt.Errorf("libvirt domain %q: %w", lg.g.name, err)
	}
	if d.Type == "kvm" {
		return "kvm", nil
	}
	return "tcg", nil
}

// attrs is what the domain says of the guest: status, running and the
// accelerator.
func (lg *libvirtGuest) attrs(dom libvirt.Domain) (map[string]cty.Value, error) {
	st, err := lg.status(dom)
	if err != nil {
		return nil, err
	}
	accel, err := lg.accelInUse(dom)
	if err != nil {
		return nil, err
	}
	return map[string]cty.Value{"status": cty.StringVal(st), "running": cty.BoolVal(st == "running"),
		"pid": cty.NullVal(cty.Number), "accelerator_in_use": cty.StringVal(accel)}, nil
}

// readDomain reads the guest as libvirt has it: gone with its domain,
// else in the domain's state.
func readDomain(ctx context.Context, s *settings, state cty.Value) (cty.Value, providers.Diagnostics) {
	lg, diags := openDomain(ctx, s, state)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer lg.Close()
	dom, ok, err := lg.lookup()
	switch {
	case err != nil:
		return cty.NilVal, guestErr("Cannot read the guest's domain", err)
	case !ok:
		return cty.NullVal(state.Type()), nil
	}
	attrs, err := lg.attrs(dom)
	if err != nil {
		return cty.NilVal, guestErr("Cannot read the guest's domain", err)
	}
	return sdk.SetAttrs(state, attrs), nil
}

// createDomain defines the guest's domain and starts it when it is to run.
// A domain of that name that exists already is not taken over: defining
// it again would replace another guest's definition.
func createDomain(ctx context.Context, s *settings, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	lg, diags := openDomain(ctx, s, req.Planned)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer lg.Close()
	if _, ok, err := lg.lookup(); err != nil {
		return cty.NilVal, guestErr("Cannot read the guest's domain", err)
	} else if ok {
		return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("name"), "Domain exists",
			"libvirt has a domain named %q already; Drover does not redefine a domain it did not create. Give the guest another name, or undefine that domain (virsh undefine %s).", lg.g.name, lg.g.name)}
	}
	dom, err := lg.define(ctx)
	if err != nil {
		return cty.NilVal, guestErr("Cannot define the guest's domain", err)
	}
	attrs := map[string]cty.Value{"status": cty.StringVal(statusStopped), "pid": cty.NullVal(cty.Number),
		"accelerator_in_use": cty.NullVal(cty.String)}
	if lg.g.running {
		if attrs, diags = lg.start(ctx, dom, req.Progress); diags.HasErrors() {
			// No guest was created: its domain goes too.
			if err := lg.lv.DomainUndefine(dom); err != nil {
				diags = append(diags, providers.Errorf("Domain left defined",
					"The domain %q could not be undefined after the failed start: %s. Undefine it by hand (virsh undefine %s).", lg.g.name, err, lg.g.name))
			}
			return cty.NilVal, diags
		}
	}
	return sdk.SetAttrs(req.Planned, attrs), nil
}

// define gives libvirt the guest's domain, with the machine paths of its
// disks and console (libvirt knows no host roots).
func (lg *libvirtGuest) define(ctx context.Context) (libvirt.Domain, error) {
	var disks []string
	for _, d := range lg.g.allDisks() {
		real, err := lg.h.RealPath(ctx, d)
		if err != nil {
			return libvirt.Domain{}, err
		}
		disks = append(disks, real)
	}
	serial, err := lg.h.RealPath(ctx, lg.g.serial)
	if err != nil {
		return libvirt.Domain{}, err
	}
	accel, _ := accelerator(ctx, lg.h, lg.g)
	desc, err := domainXML(lg.g, accel, disks, serial)
	if err != nil {
		return libvirt.Domain{}, err
	}
	return lg.lv.DomainDefineXML(string(desc))
}

func updateDomain(ctx context.Context, s *settings, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	lg, diags := openDomain(ctx, s, req.Planned)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer lg.Close()
	dom, ok, err := lg.lookup()
	switch {
	case err != nil:
		return cty.NilVal, guestErr("Cannot read the guest's domain", err)
	case !ok:
		return cty.NilVal, guestErr("Guest not found", fmt.Errorf("libvirt has no domain %q any more; run plan again to define it anew", lg.g.name))
	}
	attrs := map[string]cty.Value{}
	wasRunning := req.Prior.GetAttr("status").RawEquals(cty.StringVal("running"))
	switch {
	case lg.g.running && !wasRunning:
		if attrs, diags = lg.start(ctx, dom, req.Progress); diags.HasErrors() {
			return cty.NilVal, diags
		}
	case !lg.g.running && wasRunning:
		if err := lg.stop(ctx, dom); err != nil {
			return cty.NilVal, guestErr("Cannot stop the guest", err)
		}
		attrs["status"], attrs["pid"] = cty.StringVal(statusStopped), cty.NullVal(cty.Number)
	}
	return sdk.SetAttrs(req.Planned, attrs), nil
}

// start makes the domain run and pass its boot check: a paused one is
// resumed, one in another state than running or shut off is forced off
// and, as a shut off one, started. A start whose boot check fails forces
// the domain off again.
func (lg *libvirtGuest) start(ctx context.Context, dom libvirt.Domain, progress func(providers.Progress)) (map[string]cty.Value, providers.Diagnostics) {
	st, err := lg.status(dom)
	if err != nil {
		return nil, guestErr("Cannot read the guest's domain", err)
	}
	switch st {
	case "running":
		return lg.runningAttrs(dom)
	case "paused":
		if err := lg.lv.DomainResume(dom); err != nil {
			return nil, guestErr("Cannot resume the paused guest", err)
		}
		return lg.runningAttrs(dom)
	case statusStopped:
	default:
		if err := lg.lv.DomainDestroy(dom); err != nil {
			return nil, guestErr("Cannot force the guest off", err)
		}
	}
	if err := checkDisks(ctx, lg.h, lg.g.disks); err != nil {
		return nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("disks"), "Guest not started", "%s.", err)}
	}
	if diags := buildFolderImages(ctx, lg.h, lg.g, progress); diags.HasErrors() {
		return nil, diags
	}
	if err := newConsole(ctx, lg.h, lg.g.serial); err != nil {
		return nil, guestErr("Cannot create the console file", err)
	}
	accel, err := lg.accelInUse(dom)
	if err != nil {
		return nil, guestErr("Cannot read the guest's domain", err)
	}
	progress(providers.Progress{Message: "starting libvirt domain " + lg.g.name + " (" + strings.ToUpper(accel) + ")"})
	if err := lg.lv.DomainCreate(dom); err != nil {
		return nil, providers.Diagnostics{providers.Errorf("Cannot start the guest",
			"libvirt could not start the domain %q: %s. libvirt runs QEMU as its own user (Debian: libvirt-qemu): every folder above the disks and the console must let that user through.", lg.g.name, err)}
	}
	if lg.g.check != nil {
		progress(providers.Progress{Message: "waiting for " + lg.g.check.String()})
	}
	alive := func() bool {
		st, err := lg.status(dom)
		return err != nil || st == "running" || st == "paused"
	}
	if err := awaitBoot(ctx, lg.h, lg.g, alive); err != nil {
		ended := "The guest was forced off again."
		if serr := lg.forceOff(dom); serr != nil {
			ended = fmt.Sprintf("Forcing the guest off failed too: %s.", serr)
		}
		return nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("boot_check"), "Guest failed its boot check",
			"%s. %s\n\n%s", err, ended, consoleTail(context.WithoutCancel(ctx), lg.h, lg.g))}
	}
	return lg.runningAttrs(dom)
}

func (lg *libvirtGuest) runningAttrs(dom libvirt.Domain) (map[string]cty.Value, providers.Diagnostics) {
	attrs, err := lg.attrs(dom)
	if err != nil {
		return nil, guestErr("Cannot read the guest's domain", err)
	}
	delete(attrs, "running")
	return attrs, nil
}

// stop asks the guest to power down (ACPI) and forces the domain off when
// it has not within stop_timeout.
func (lg *libvirtGuest) stop(ctx context.Context, dom libvirt.Domain) error {
	if st, err := lg.status(dom); err != nil {
		return err
	} else if st == statusStopped {
		return nil
	}
	if err := lg.lv.DomainShutdown(dom); err == nil && lg.waitOff(ctx, dom, lg.g.stopTimeout) {
		return nil
	}
	return lg.forceOff(dom)
}

// forceOff ends the domain's QEMU without asking the guest (a domain that
// is off already is left as it is).
func (lg *libvirtGuest) forceOff(dom libvirt.Domain) error {
	if st, err := lg.status(dom); err == nil && st == statusStopped {
		return nil
	}
	if err := lg.lv.DomainDestroy(dom); err != nil {
		return fmt.Errorf("libvirt domain %q: %w", lg.g.name, err)
	}
	return nil
}

// waitOff polls until the domain is shut off, for at most d.
func (lg *libvirtGuest) waitOff(ctx context.Context, dom libvirt.Domain, d time.Duration) bool {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if st, err := lg.status(dom); err == nil && st == statusStopped {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// deleteDomain stops the guest and undefines its domain; the console
// file stays, as the record of its last boot.
func deleteDomain(ctx context.Context, s *settings, req sdk.ApplyRequest) providers.Diagnostics {
	lg, diags := openDomain(ctx, s, req.Prior)
	if diags.HasErrors() {
		return diags
	}
	defer lg.Close()
	dom, ok, err := lg.lookup()
	switch {
	case err != nil:
		return guestErr("Cannot read the guest's domain", err)
	case !ok:
		return nil
	}
	if err := lg.stop(ctx, dom); err != nil {
		return guestErr("Cannot stop the guest", err)
	}
	// The domain boots a killed copy's overlay: into the disk with it
	// before the domain, which names it, goes.
	for _, d := range lg.g.disks {
		if _, err := guestdisk.CommitBeside(ctx, lg.h, d); err != nil {
			return guestErr("Cannot commit a copy's overlay", err)
		}
	}
	if err := lg.lv.DomainUndefine(dom); err != nil {
		return guestErr("Cannot undefine the guest's domain", err)
	}
	return nil
}
