package vm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/plural"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/vm/guestdisk"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// statusStopped is the status of a guest no QEMU runs, beside QEMU's own
// run states.
const statusStopped = "stopped"

var guestSchema = &schema.Resource{
	Description: "A virtual machine on a host, started from disk images (a drive_copy's target among them) and proven up by a boot check.",
	Block: &schema.Block{
		Attributes: map[string]*schema.Attribute{
			"host": {Type: host.Type, Required: true, ForceNew: true,
				Description: "The machine the hypervisor runs on, e.g. host.fs2: a local or SSH host (for a QEMU guest, one whose machine runs Drover's agent)."},
			"hypervisor": {Type: cty.String, Optional: true, ForceNew: true,
				Description: "\"qemu\" (the default: QEMU started by Drover) or \"libvirt\" (a domain of the libvirtd of the provider's libvirt_uri)."},
			"name": {Type: cty.String, Optional: true, Computed: true, ForceNew: true,
				Description: "The guest's name on its hypervisor (libvirt's domain name); the console file's name without its extension when not set."},
			"memory": {Type: cty.String, Optional: true, ForceNew: true,
				Description: "Guest memory, e.g. \"256MiB\" (the default) or \"2GiB\"."},
			"cpus": {Type: cty.Number, Optional: true, ForceNew: true, Description: "Virtual CPUs; 1 when not set."},
			"disks": {Type: cty.List(cty.String), Required: true, ForceNew: true,
				Description: "Raw image files on the host, the first one booted: [drive_copy.dpsr.target]. At most 4. A file ending in .qcow2 is read as a qcow2 overlay of a raw image (a drill's clone of a disk)."},
			"serial": {Type: cty.String, Optional: true, ForceNew: true,
				Description: "File the guest's serial console is kept in; each start makes it anew. Required but for vSphere guests."},
			"state_dir": {Type: cty.String, Optional: true, Computed: true, ForceNew: true,
				Description: "Folder of the guest's pidfile and QMP socket; SERIAL.qemu when not set."},
			"snapshot": {Type: cty.Bool, Optional: true, ForceNew: true,
				Description: "Write the guest's changes to a throwaway overlay and leave the disks as they are (a boot test of a backup)."},
			"running": {Type: cty.Bool, Optional: true, Computed: true,
				Description: "Whether the guest runs; true when not set. A start completes when the boot check passes."},
			"accelerator": {Type: cty.String, Optional: true, ForceNew: true,
				Description: "\"auto\" (the default: KVM when a probe guest runs on it, else TCG), \"kvm\" or \"tcg\"."},
			"stop_timeout": {Type: cty.String, Optional: true,
				Description: "How long a stop waits for the guest to power down on ACPI request before QEMU quits; \"30s\" when not set."},
			"triggers_replace": {Type: cty.DynamicPseudoType, Optional: true, ForceNew: true,
				Description: "Any value; a change restarts the guest: triggers_replace = drive_copy.dpsr.generation boots each new copy."},
			"source_guest": {Type: cty.DynamicPseudoType, Optional: true,
				Description: "The vm_guest this guest replaces, e.g. vm_guest.fs1 on the source host: this guest does not start while that one runs (split-brain), unless force = true."},
			"guest_agent": {Type: cty.Bool, Optional: true, ForceNew: true,
				Description: "Give a qemu or libvirt guest a guest agent channel (a virtio-serial port, org.qemu.guest_agent.0): a drive_copy of its disk (source_guest) asks the agent to freeze the guest's file systems for the snapshot. false when not set."},
			"libvirt_uri": {Type: cty.String, Computed: true,
				Description: "The libvirt connection of a libvirt guest (the provider's libvirt_uri), for a drive_copy of its disk; null for others."},
			"force": {Type: cty.Bool, Optional: true,
				Description: "Start although the source_guest still runs or cannot be asked; false when not set."},
			"status": {Type: cty.String, Computed: true,
				Description: "What the hypervisor says: \"running\", \"paused\", \"shutdown\", ..., or \"stopped\" when no QEMU runs."},
			"pid": {Type: cty.Number, Computed: true, Description: "The QEMU process; null when stopped."},
			"accelerator_in_use": {Type: cty.String, Computed: true,
				Description: "\"kvm\" or \"tcg\": what the last start used."},
			"id": {Type: cty.String, Computed: true, Description: "HOST:STATE_DIR."},
		},
		BlockTypes: map[string]*schema.NestedBlock{
			"shared_folder": {Nesting: schema.NestingList, Block: schema.Block{
				Description: "A folder of the host the guest mounts: at each start Drover copies it into a FAT32 image, attached after the disks. The guest's writes to it are not carried back.",
				Attributes: map[string]*schema.Attribute{
					"path":  {Type: cty.String, Required: true, Description: "The folder, e.g. a replication set's target: \"/replica/fs1/share\"."},
					"image": {Type: cty.String, Required: true, Description: "The image file Drover makes from it, e.g. \"/var/lib/drover/fs1-share.img\"."},
				},
			}},
			"boot_check": {Nesting: schema.NestingSingle, Block: schema.Block{
				Description: "How a start knows the guest is up; without it a start completes when QEMU runs.",
				Attributes: map[string]*schema.Attribute{
					"serial": {Type: cty.String, Optional: true,
						Description: "Text the guest prints on its console once up, e.g. \"FS1 READY\"."},
					"tcp": {Type: cty.String, Optional: true,
						Description: "HOST:PORT that accepts connections once the guest is up."},
					"timeout": {Type: cty.String, Optional: true,
						Description: "How long a start waits for the check; \"60s\" when not set."},
				},
			}},
		},
	},
}

func guestResource(s *settings) *sdk.Resource {
	return &sdk.Resource{
		Schema:        guestSchema,
		Validate:      validateGuest,
		CustomizePlan: func(ctx context.Context, p *sdk.Plan) providers.Diagnostics { return planGuest(ctx, s, p) },
		Read: func(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
			switch hypervisor(state) {
			case "libvirt":
				return readDomain(ctx, s, state)
			case "vsphere":
				return readVSphere(ctx, s, state)
			}
			return readGuest(ctx, state)
		},
		Create: func(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
			fenced := checkFence(ctx, s, req)
			if fenced.HasErrors() {
				return cty.NilVal, fenced
			}
			v, diags := create(ctx, s, req)
			return v, append(fenced, diags...)
		},
		Update: func(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
			fenced := checkFence(ctx, s, req)
			if fenced.HasErrors() {
				return cty.NilVal, fenced
			}
			v, diags := update(ctx, s, req)
			return v, append(fenced, diags...)
		},
		Delete: func(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
			switch hypervisor(req.Prior) {
			case "libvirt":
				return deleteDomain(ctx, s, req)
			case "vsphere":
				return deleteVSphere(ctx, s, req)
			}
			return deleteGuest(ctx, req)
		},
	}
}

func create(ctx context.Context, s *settings, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	switch hypervisor(req.Planned) {
	case "libvirt":
		return createDomain(ctx, s, req)
	case "vsphere":
		return createVSphere(ctx, s, req)
	}
	return createGuest(ctx, req)
}

func update(ctx context.Context, s *settings, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	switch hypervisor(req.Planned) {
	case "libvirt":
		return updateDomain(ctx, s, req)
	case "vsphere":
		return updateVSphere(ctx, s, req)
	}
	return updateGuest(ctx, req)
}

// hypervisor names what runs the guest v: "qemu" (the default),
// "libvirt" or "vsphere".
func hypervisor(v cty.Value) string {
	if h := v.GetAttr("hypervisor"); h.IsKnown() && !h.IsNull() {
		return h.AsString()
	}
	return "qemu"
}

func validateGuest(ctx context.Context, config cty.Value) providers.Diagnostics {
	g, diags := parseGuest(config)
	if n := len(g.allDisks()); n > 4 {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("disks"), "Too many disks",
			"A guest takes at most 4 disks in this release (IDE), shared folders' images included; it has %d.", n))
	}
	return diags
}

// wantsRunning says whether v asks for a running guest; running defaults
// to true.
func wantsRunning(v cty.Value) bool {
	r := v.GetAttr("running")
	return !r.IsKnown() || r.IsNull() || r.True()
}

// guestID is HOST:STATE_DIR, or HOST:NAME for a guest without a state
// folder (vSphere's).
func guestID(v cty.Value) cty.Value {
	h, dir := v.GetAttr("host"), v.GetAttr("state_dir")
	if dir.IsKnown() && dir.IsNull() {
		dir = v.GetAttr("name")
	}
	if !h.IsWhollyKnown() || !dir.IsKnown() || h.IsNull() || dir.IsNull() {
		return cty.UnknownVal(cty.String)
	}
	return cty.StringVal(h.GetAttr("name").AsString() + ":" + dir.AsString())
}

func planGuest(ctx context.Context, s *settings, p *sdk.Plan) providers.Diagnostics {
	attrs := map[string]cty.Value{}
	if n := p.Config.GetAttr("name"); n.IsNull() {
		switch s := p.Config.GetAttr("serial"); {
		case !s.IsKnown():
			attrs["name"] = cty.UnknownVal(cty.String)
		case !s.IsNull():
			attrs["name"] = cty.StringVal(defaultName(s.AsString()))
		}
	}
	if p.Config.GetAttr("state_dir").IsNull() {
		switch s := p.Config.GetAttr("serial"); {
		case !s.IsKnown():
			attrs["state_dir"] = cty.UnknownVal(cty.String)
		case s.IsNull():
			attrs["state_dir"] = cty.NullVal(cty.String)
		default:
			attrs["state_dir"] = cty.StringVal(s.AsString() + stateSuffix)
		}
	}
	planned := sdk.SetAttrs(p.Planned, attrs)
	attrs = map[string]cty.Value{"id": guestID(planned)}
	if p.Config.GetAttr("running").IsNull() {
		attrs["running"] = cty.True
	}
	if !p.Prior.IsNull() {
		// What QEMU reported stays until a start or stop changes it; a
		// null of the prior state would be proposed as unknown.
		for _, name := range []string{"status", "pid", "accelerator_in_use"} {
			attrs[name] = p.Prior.GetAttr(name)
		}
	}
	g, diags := parseGuest(p.Config)
	if diags.HasErrors() {
		return diags
	}
	var h host.Host
	if g.hypervisor != "vsphere" && p.Config.GetAttr("host").IsWhollyKnown() {
		var hdiags providers.Diagnostics
		h, hdiags = planHost(ctx, g)
		if diags = append(diags, hdiags...); diags.HasErrors() {
			return diags
		}
		if h != nil {
			defer h.Close()
		}
	}
	wasRunning := !p.Prior.IsNull() && p.Prior.GetAttr("status").RawEquals(cty.StringVal("running"))
	switch want := wantsRunning(p.Config); {
	case want && !wasRunning:
		attrs["status"] = cty.StringVal("running")
		attrs["pid"] = cty.UnknownVal(cty.Number)
		attrs["accelerator_in_use"] = cty.UnknownVal(cty.String)
		p.Description = startDescription(ctx, h, g) + fenceDescription(p.Config)
	case !want && wasRunning:
		attrs["status"] = cty.StringVal(statusStopped)
		attrs["pid"] = cty.NullVal(cty.Number)
		p.Description = fmt.Sprintf("stops the guest: ACPI power-down, QEMU quits after %s", g.stopTimeout)
		switch g.hypervisor {
		case "libvirt":
			p.Description = fmt.Sprintf("stops the guest: ACPI power-down, libvirt forces it off after %s", g.stopTimeout)
		case "vsphere":
			p.Description = fmt.Sprintf("stops the guest: guest shutdown, vSphere powers it off after %s", g.stopTimeout)
		}
	case !want && p.Prior.IsNull():
		attrs["status"] = cty.StringVal(statusStopped)
		attrs["pid"] = cty.NullVal(cty.Number)
		attrs["accelerator_in_use"] = cty.NullVal(cty.String)
		p.Description = "defines the guest without starting it"
	}
	// Only QEMU guests have a process of their own to show; only vSphere
	// says nothing of the accelerator.
	if g.hypervisor == "libvirt" || g.hypervisor == "vsphere" {
		attrs["pid"] = cty.NullVal(cty.Number)
	}
	if g.hypervisor == "vsphere" {
		attrs["accelerator_in_use"] = cty.NullVal(cty.String)
	}
	// A drive_copy of the guest's disk reaches the domain through it.
	attrs["libvirt_uri"] = cty.NullVal(cty.String)
	if g.hypervisor == "libvirt" {
		attrs["libvirt_uri"] = cty.StringVal(s.libvirtURI.String())
	}
	// Another shared folder is another disk: the guest restarts. No
	// blocks are no blocks, whether null or an empty list.
	if !p.Prior.IsNull() && !sameFolders(p.Prior.GetAttr("shared_folder"), p.Planned.GetAttr("shared_folder")) {
		p.RequiresReplace = append(p.RequiresReplace, cty.GetAttrPath("shared_folder"))
	}
	p.Planned = sdk.SetAttrs(planned, attrs)
	return diags
}

// planHost opens g's host for its plan; nil when it cannot be reached now
// (the apply says why, if it still cannot). A QEMU guest's work on the
// machine, and a shared folder's image for any guest, run as host ops: a
// host whose machine cannot run them (an SSH host without Drover's agent)
// is refused at its line.
func planHost(ctx context.Context, g *guest) (host.Host, providers.Diagnostics) {
	h, err := g.host.OpenContext(ctx)
	if err != nil {
		return nil, nil
	}
	var needs string
	switch {
	case g.hypervisor == "qemu":
		needs = "a QEMU guest's work (QEMU's pidfile, QMP socket, KVM probe)"
	case len(g.folders) > 0:
		needs = "the image of a shared folder"
	default:
		return h, nil
	}
	switch err := host.CanCall(ctx, h); {
	case errors.Is(err, host.ErrNoOps):
		h.Close()
		return nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Host cannot run the guest",
			"Drover does %s on the guest's machine, which host %q cannot: %s. Give the guest a host whose machine runs Drover's agent (the same system and architecture as Drover).", needs, g.host.Name, err)}
	case err != nil:
		h.Close()
		return nil, nil
	}
	return h, nil
}

// startDescription says how a start will go: the accelerator (and why not
// KVM) and what completes it.
func startDescription(ctx context.Context, h host.Host, g *guest) string {
	if g.hypervisor == "vsphere" {
		desc := fmt.Sprintf("powers on the vSphere VM %q from %d %s", g.name, len(g.disks), plural.Of(len(g.disks), "disk", "disks"))
		if g.check != nil {
			desc += "; complete when " + g.check.String()
		}
		return desc
	}
	var note string
	if h == nil {
		note = "KVM or TCG, as probed at the start"
	} else if accel, why := accelerator(ctx, h, g); why != "" {
		note = why
	} else {
		note = strings.ToUpper(accel)
	}
	from := fmt.Sprintf("%d %s", len(g.disks), plural.Of(len(g.disks), "disk", "disks"))
	if n := len(g.folders); n > 0 {
		from += fmt.Sprintf(" and %d shared %s", n, plural.Of(n, "folder", "folders"))
	}
	desc := fmt.Sprintf("starts the guest from %s (%s)", from, note)
	if g.check != nil {
		desc += "; complete when " + g.check.String()
	}
	return desc
}

func guestErr(summary string, err error) providers.Diagnostics {
	return providers.Diagnostics{providers.Errorf(summary, "%s.", err)}
}

// open parses v and opens its instance.
func open(ctx context.Context, v cty.Value) (*instance, providers.Diagnostics) {
	g, diags := parseGuest(v)
	if diags.HasErrors() {
		return nil, diags
	}
	in, err := openInstance(ctx, g)
	if err != nil {
		return nil, guestErr("Cannot reach the guest's host", err)
	}
	return in, nil
}

// readGuest reads the guest as its QEMU is: gone with its state folder,
// else running or not.
func readGuest(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
	in, diags := open(ctx, state)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer in.Close()
	if _, err := in.h.Lstat(ctx, in.g.stateDir); errors.Is(err, fs.ErrNotExist) {
		return cty.NullVal(state.Type()), nil
	} else if err != nil {
		return cty.NilVal, guestErr("Cannot read the guest's state folder", err)
	}
	attrs := map[string]cty.Value{"status": cty.StringVal(statusStopped), "pid": cty.NullVal(cty.Number)}
	pid, err := in.pid(ctx)
	if err != nil {
		return cty.NilVal, guestErr("Cannot ask for the guest's QEMU", err)
	}
	if pid != 0 {
		st, kvm, err := in.status(ctx)
		switch {
		case err == nil:
			attrs["status"], attrs["pid"] = cty.StringVal(st), cty.NumberIntVal(int64(pid))
			attrs["accelerator_in_use"] = cty.StringVal(accelName(kvm))
		case in.alive(ctx, pid):
			return cty.NilVal, guestErr("Cannot ask QEMU how the guest is", fmt.Errorf("QEMU runs as pid %d, but %w", pid, err))
		}
		// Otherwise QEMU died while it was asked: stopped.
	}
	attrs["running"] = cty.BoolVal(attrs["status"].AsString() == "running")
	return sdk.SetAttrs(state, attrs), nil
}

// accelName names what runs a guest, as QMP query-kvm tells.
func accelName(kvm bool) string {
	if kvm {
		return "kvm"
	}
	return "tcg"
}

func createGuest(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	in, diags := open(ctx, req.Planned)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer in.Close()
	if err := in.h.MkdirAll(ctx, in.g.stateDir, 0o700); err != nil {
		return cty.NilVal, guestErr("Cannot create the guest's state folder", err)
	}
	attrs := map[string]cty.Value{"status": cty.StringVal(statusStopped), "pid": cty.NullVal(cty.Number),
		"accelerator_in_use": cty.NullVal(cty.String)}
	if in.g.running {
		var diags providers.Diagnostics
		if attrs, diags = in.start(ctx, req.Progress); diags.HasErrors() {
			// No guest was created: nothing of it stays (start removed
			// QEMU's files, Remove takes only an empty folder).
			in.h.Remove(ctx, in.g.stateDir)
			return cty.NilVal, diags
		}
	}
	return sdk.SetAttrs(req.Planned, attrs), nil
}

func updateGuest(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	in, diags := open(ctx, req.Planned)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer in.Close()
	attrs := map[string]cty.Value{}
	wasRunning := req.Prior.GetAttr("status").RawEquals(cty.StringVal("running"))
	switch {
	case in.g.running && !wasRunning:
		if attrs, diags = in.start(ctx, req.Progress); diags.HasErrors() {
			return cty.NilVal, diags
		}
	case !in.g.running && wasRunning:
		if err := in.stop(ctx); err != nil {
			return cty.NilVal, guestErr("Cannot stop the guest", err)
		}
		attrs["status"], attrs["pid"] = cty.StringVal(statusStopped), cty.NullVal(cty.Number)
	}
	return sdk.SetAttrs(req.Planned, attrs), nil
}

// start makes the guest run and pass its boot check: a paused QEMU is
// continued, one that is not running a guest is ended and, as when there
// is none, a new one launched. A launch whose boot check fails is ended
// again at once (the guest is not asked), so that a failed start leaves
// no QEMU behind, even when the run is being interrupted.
func (in *instance) start(ctx context.Context, progress func(providers.Progress)) (map[string]cty.Value, providers.Diagnostics) {
	running := func(pid int, accel string) map[string]cty.Value {
		return map[string]cty.Value{"status": cty.StringVal("running"), "pid": cty.NumberIntVal(int64(pid)),
			"accelerator_in_use": cty.StringVal(accel)}
	}
	pid, err := in.pid(ctx)
	if err != nil {
		return nil, guestErr("Cannot ask for the guest's QEMU", err)
	}
	if pid != 0 {
		st, kvm, err := in.status(ctx)
		accel := accelName(kvm)
		switch {
		case err != nil && in.alive(ctx, pid):
			return nil, guestErr("Cannot ask QEMU how the guest is", err)
		case err != nil:
			// It died while it was asked: launch afresh below.
		case st == "running":
			return running(pid, accel), nil
		case st == "paused":
			if _, err := in.qmp(ctx, "cont"); err != nil {
				return nil, guestErr("Cannot continue the paused guest", err)
			}
			return running(pid, accel), nil
		}
		// Shut down or failed: start it afresh.
		if err := in.end(ctx, pid); err != nil {
			return nil, guestErr("Cannot stop the guest's QEMU", err)
		}
	}
	if _, err := guestdisk.CommitStopped(ctx, in.h, in.g.stateDir); err != nil {
		return nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("disks"), "Guest not started", "%s.", err)}
	}
	if err := checkDisks(ctx, in.h, in.g.disks); err != nil {
		return nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("disks"), "Guest not started", "%s.", err)}
	}
	if diags := buildFolderImages(ctx, in.h, in.g, progress); diags.HasErrors() {
		return nil, diags
	}
	accel, note := accelerator(ctx, in.h, in.g)
	progress(providers.Progress{Message: "starting QEMU (" + strings.ToUpper(accel) + ")"})
	// The launch is not interrupted: killed between its fork and its
	// report, QEMU could come up unseen. An interruption ends what it
	// started instead.
	launchCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), launchTimeout)
	pid, err = in.launch(launchCtx, accel)
	cancel()
	if err == nil && ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	if err != nil {
		// Whatever the launch left running on the machine, found there
		// by its pidfile and command line.
		if left, perr := in.pid(context.WithoutCancel(ctx)); perr != nil {
			err = fmt.Errorf("%w; whether QEMU was left running cannot be told: %w", err, perr)
		} else if eerr := in.end(context.WithoutCancel(ctx), left); eerr != nil {
			err = fmt.Errorf("%w; ending the QEMU it left: %w", err, eerr)
		}
		return nil, guestErr("Cannot start the guest", err)
	}
	if in.g.check != nil {
		progress(providers.Progress{Message: "waiting for " + in.g.check.String()})
	}
	if err := awaitBoot(ctx, in.h, in.g, func() bool { return in.alive(ctx, pid) }); err != nil {
		ended := "The guest was stopped again."
		if serr := in.end(context.WithoutCancel(ctx), pid); serr != nil {
			ended = fmt.Sprintf("Stopping the guest failed too: %s.", serr)
		}
		switch {
		case note != "":
			ended += " " + note + "."
		case accel == "kvm":
			ended += ` It ran under KVM, where nested virtualization can leave a guest silent although the KVM probe passed; accelerator = "tcg" rules that out.`
		}
		return nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("boot_check"), "Guest failed its boot check",
			"%s. %s\n\n%s", err, ended, consoleTail(context.WithoutCancel(ctx), in.h, in.g))}
	}
	return running(pid, accel), nil
}

// deleteGuest stops the guest and removes its state folder; the console
// file stays, as the record of its last boot.
func deleteGuest(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
	in, diags := open(ctx, req.Prior)
	if diags.HasErrors() {
		return diags
	}
	defer in.Close()
	if err := in.stop(ctx); err != nil {
		return guestErr("Cannot stop the guest", err)
	}
	if err := in.h.Remove(ctx, in.g.stateDir); err != nil {
		return guestErr("Cannot remove the guest's state folder", err)
	}
	return nil
}

// sameFolders says whether two shared_folder values name the same
// folders and images; null and empty are the same.
func sameFolders(a, b cty.Value) bool {
	empty := func(v cty.Value) bool { return v.IsKnown() && (v.IsNull() || v.LengthInt() == 0) }
	if empty(a) && empty(b) {
		return true
	}
	return a.RawEquals(b)
}
