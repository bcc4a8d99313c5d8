package vm

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/vm/bootsector"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// machine is a folder playing a host, short enough for QMP socket paths,
// with the checks every test ends with: no QEMU of it still runs.
type machine struct {
	t    *testing.T
	root string
	h    cty.Value
	p    providers.Provider
}

// newMachine is a machine of t's own: a host rooted in a folder of its
// own, its QEMU processes found by that folder. Tests of plain QEMU guests
// that change no package variable (kvmUsable, the shared SSH connections)
// run in parallel: most of their time is QEMU booting and stopping.
func newMachine(t *testing.T) *machine {
	t.Helper()
	testenv.Command(t, qemuProgram, "qemu-system-x86")
	root, err := os.MkdirTemp("", "vm")
	if err != nil {
		t.Fatal(err)
	}
	m := &machine{t: t, root: root, h: host.Config{Name: "fs2", Root: root}.Value(), p: sdk.New(New())}
	t.Cleanup(func() {
		if pids := qemusBelow(root); len(pids) > 0 {
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Errorf("QEMU processes left running: %v", pids)
		}
		os.RemoveAll(root)
	})
	return m
}

// qemusBelow lists the QEMU processes whose command line names a path
// below root.
func qemusBelow(root string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(qemuProgram)) && bytes.Contains(cmdline, []byte(root+"/")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// bootDisk writes a disk image at the host path p booting to marker.
func (m *machine) bootDisk(p, marker string) {
	m.t.Helper()
	b, err := bootsector.Image(marker)
	if err != nil {
		m.t.Fatal(err)
	}
	m.writeFile(p, append(b, make([]byte, 64<<10-len(b))...))
}

func (m *machine) writeFile(p string, b []byte) {
	m.t.Helper()
	full := filepath.Join(m.root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		m.t.Fatal(err)
	}
	if err := os.WriteFile(full, b, 0o600); err != nil {
		m.t.Fatal(err)
	}
}

var guestType = guestSchema.Block.ImpliedType()

// config is a vm_guest configuration of disks; attrs set the rest.
func (m *machine) config(disks []string, attrs map[string]cty.Value) cty.Value {
	v := map[string]cty.Value{}
	for name, ty := range guestType.AttributeTypes() {
		v[name] = cty.NullVal(ty)
	}
	var ds []cty.Value
	for _, d := range disks {
		ds = append(ds, cty.StringVal(d))
	}
	v["host"], v["disks"], v["serial"] = m.h, cty.ListVal(ds), cty.StringVal("/var/lib/drover/guest.serial")
	v["stop_timeout"] = cty.StringVal("1s") // a boot sector ignores ACPI
	v["accelerator"] = cty.StringVal("tcg") // KVM is unreliable where nested
	for k, a := range attrs {
		v[k] = a
	}
	return cty.ObjectVal(v)
}

func check(marker string, timeout string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"serial": cty.StringVal(marker), "tcp": cty.NullVal(cty.String), "timeout": cty.StringVal(timeout)})
}

// apply plans config against prior and applies the plan.
func (m *machine) apply(prior, config cty.Value) (cty.Value, providers.PlanResponse, providers.Diagnostics) {
	m.t.Helper()
	ctx := m.t.Context()
	plan := m.p.Plan(ctx, providers.PlanRequest{TypeName: "vm_guest", Prior: prior,
		Proposed: guestSchema.Block.ProposedNew(prior, config), Config: config})
	if plan.Diagnostics.HasErrors() {
		return cty.NilVal, plan, plan.Diagnostics
	}
	resp := m.p.Apply(ctx, providers.ApplyRequest{TypeName: "vm_guest", Prior: prior, Planned: plan.Planned})
	return resp.New, plan, resp.Diagnostics
}

func (m *machine) read(state cty.Value) cty.Value {
	m.t.Helper()
	resp := m.p.Read(m.t.Context(), providers.ReadRequest{TypeName: "vm_guest", Prior: state})
	if resp.Diagnostics.HasErrors() {
		m.t.Fatalf("read: %v", resp.Diagnostics)
	}
	return resp.New
}

func (m *machine) destroy(state cty.Value) {
	m.t.Helper()
	if resp := m.p.Apply(m.t.Context(), providers.ApplyRequest{TypeName: "vm_guest", Prior: state, Planned: cty.NullVal(guestType)}); resp.Diagnostics.HasErrors() {
		m.t.Fatalf("destroy: %v", resp.Diagnostics)
	}
}

func (m *machine) console() string {
	b, _ := os.ReadFile(filepath.Join(m.root, "var/lib/drover/guest.serial"))
	return string(b)
}

func pidOf(t *testing.T, state cty.Value) int {
	t.Helper()
	p := state.GetAttr("pid")
	if p.IsNull() {
		t.Fatalf("no pid in %#v", state)
	}
	n, _ := p.AsBigFloat().Int64()
	return int(n)
}

func TestGuestStartStopDrift(t *testing.T) {
	t.Parallel()
	m := newMachine(t)
	// A comma would end the path in QEMU's option syntax unless doubled.
	m.bootDisk("/srv/fs1,a.img", "FS1 READY gen 1")
	config := m.config([]string{"/srv/fs1,a.img"}, map[string]cty.Value{"boot_check": check("FS1 READY gen 1", "30s")})

	state, plan, diags := m.apply(cty.NullVal(guestType), config)
	if diags.HasErrors() {
		t.Fatalf("start: %v", diags)
	}
	if !strings.HasPrefix(plan.Description, "starts the guest from 1 disk (") ||
		!strings.HasSuffix(plan.Description, `; complete when "FS1 READY gen 1" on the console`) {
		t.Errorf("plan description %q", plan.Description)
	}
	if got := state.GetAttr("status").AsString(); got != "running" {
		t.Fatalf("status %q after the start", got)
	}
	if !strings.Contains(m.console(), "FS1 READY gen 1\r\n") {
		t.Errorf("console %q", m.console())
	}
	if read := m.read(state); !read.RawEquals(state) {
		t.Errorf("read after start:\n%#v\nwant\n%#v", read, state)
	}
	again := m.p.Plan(t.Context(), providers.PlanRequest{TypeName: "vm_guest", Prior: state,
		Proposed: guestSchema.Block.ProposedNew(state, config), Config: config})
	if !again.Planned.RawEquals(state) {
		t.Errorf("planning the running guest again changes it:\n%#v", again.Planned)
	}

	// Drift: someone kills QEMU. Refresh sees it, the plan starts it again.
	pid := pidOf(t, state)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var read cty.Value
	for read = m.read(state); read.GetAttr("status").AsString() != statusStopped; read = m.read(state) {
		if time.Now().After(deadline) {
			t.Fatalf("killed QEMU still reads as %#v", read)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if read.GetAttr("running").True() || !read.GetAttr("pid").IsNull() {
		t.Errorf("a killed guest reads as %#v", read)
	}
	state, plan, diags = m.apply(read, config)
	if diags.HasErrors() {
		t.Fatalf("start after drift: %v", diags)
	}
	if !strings.HasPrefix(plan.Description, "starts the guest") || pidOf(t, state) == pid {
		t.Errorf("start after drift: %q, pid %d (was %d)", plan.Description, pidOf(t, state), pid)
	}

	// Paused behind Drover's back: refresh says so, apply continues the
	// same QEMU.
	pid = pidOf(t, state)
	in, err := openInstance(t.Context(), &guest{host: host.Config{Name: "fs2", Root: m.root}, stateDir: "/var/lib/drover/guest.serial.qemu"})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := in.qmp(t.Context(), "stop"); err != nil {
		t.Fatal(err)
	}
	read = m.read(state)
	if read.GetAttr("status").AsString() != "paused" || read.GetAttr("running").True() {
		t.Errorf("a paused guest reads as %#v", read)
	}
	state, _, diags = m.apply(read, config)
	if diags.HasErrors() {
		t.Fatalf("continuing the paused guest: %v", diags)
	}
	if st, _, err := in.status(t.Context()); err != nil || st != "running" || pidOf(t, state) != pid {
		t.Errorf("after continuing: QEMU says %q (%v), pid %d (was %d)", st, err, pidOf(t, state), pid)
	}

	// Stop: no ACPI in a boot sector, so QMP quit after stop_timeout.
	stopped := m.config([]string{"/srv/fs1,a.img"}, map[string]cty.Value{"boot_check": check("FS1 READY gen 1", "30s"), "running": cty.False})
	state, plan, diags = m.apply(state, stopped)
	if diags.HasErrors() {
		t.Fatalf("stop: %v", diags)
	}
	if plan.Description != "stops the guest: ACPI power-down, QEMU quits after 1s" || state.GetAttr("status").AsString() != statusStopped {
		t.Errorf("stop: %q, %#v", plan.Description, state)
	}
	if pids := qemusBelow(m.root); len(pids) > 0 {
		t.Errorf("QEMU %v still runs after the stop (the guest's was %d)", pids, pid)
	}
	if read := m.read(state); !read.RawEquals(state) {
		t.Errorf("read after stop:\n%#v\nwant\n%#v", read, state)
	}
	m.destroy(state)
	if _, err := os.Stat(filepath.Join(m.root, "var/lib/drover/guest.serial.qemu")); !os.IsNotExist(err) {
		t.Errorf("the state folder is still there: %v", err)
	}
	if read := m.read(state); !read.IsNull() {
		t.Errorf("read after destroy: %#v", read)
	}
}

// TestGuestStartFails covers starts that must fail clearly and leave no
// QEMU behind.
func TestGuestStartFails(t *testing.T) {
	tests := []struct {
		name  string
		setup func(m *machine)
		attrs map[string]cty.Value
		env   string
		want  []string
	}{
		{name: "wrong marker", attrs: map[string]cty.Value{"boot_check": check("FS1 READY gen 2", "3s")},
			want: []string{"Guest failed its boot check", `boot check "FS1 READY gen 2" on the console: not passed within 3s. The guest was stopped again.`,
				"\n\nThe console (/var/lib/drover/guest.serial) ends with:\nFS1 READY gen 1"}},
		{name: "wrong marker under TCG for want of KVM", setup: func(m *machine) {
			saved := kvmUsable
			m.t.Cleanup(func() { kvmUsable = saved })
			kvmUsable = func() error { return errors.New("open /dev/kvm: no such device") }
		}, attrs: map[string]cty.Value{"boot_check": check("FS1 READY gen 2", "2s"), "accelerator": cty.StringVal("auto")},
			want: []string{"not passed within 2s", "The guest was stopped again. TCG: KVM unavailable (open /dev/kvm: no such device)."}},
		{name: "wrong marker under KVM", setup: func(m *machine) {
			if _, err := os.Stat("/dev/kvm"); err != nil {
				testenv.Missing(m.t, "/dev/kvm", "run the tests where KVM is, nested or not")
			}
		}, attrs: map[string]cty.Value{"boot_check": check("FS1 READY gen 2", "2s"), "accelerator": cty.StringVal("kvm")},
			want: []string{"not passed within 2s", `It ran under KVM, where nested virtualization can leave a guest silent although the KVM probe passed; accelerator = "tcg" rules that out.`}},
		{name: "image that boots nothing", setup: func(m *machine) { m.writeFile("/srv/fs1.img", make([]byte, 64<<10)) },
			attrs: map[string]cty.Value{"boot_check": check("FS1 READY", "3s")},
			want:  []string{"not passed within 3s", "The console (/var/lib/drover/guest.serial) stayed empty."}},
		{name: "missing disk", setup: func(m *machine) { os.Remove(filepath.Join(m.root, "srv/fs1.img")) },
			want: []string{"Guest not started", `the disk /srv/fs1.img does not exist on host "fs2"`}},
		{name: "disk is a folder", setup: func(m *machine) {
			os.Remove(filepath.Join(m.root, "srv/fs1.img"))
			os.Mkdir(filepath.Join(m.root, "srv/fs1.img"), 0o755)
		}, want: []string{`the disk /srv/fs1.img on host "fs2" is a folder; this release boots raw image files only`}},
		{name: "state folder too deep for a socket", attrs: map[string]cty.Value{"state_dir": cty.StringVal("/" + strings.Repeat("d", 100))},
			want: []string{"Cannot start the guest: the QMP socket path ", "is longer than the 107 bytes a unix socket takes; set state_dir to a shorter folder"}},
		{name: "qemu not installed", env: "PATH",
			want: []string{"QEMU is not installed on host \"fs2\": qemu-system-x86_64 was not found; install it (Debian: apt-get install qemu-system-x86)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMachine(t)
			m.bootDisk("/srv/fs1.img", "FS1 READY gen 1")
			if tt.setup != nil {
				tt.setup(m)
			}
			if tt.env != "" {
				t.Setenv(tt.env, t.TempDir())
			}
			_, _, diags := m.apply(cty.NullVal(guestType), m.config([]string{"/srv/fs1.img"}, tt.attrs))
			msg := render(diags)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("diagnostics lack %q:\n%s", w, msg)
				}
			}
			if _, err := os.Stat(filepath.Join(m.root, "var/lib/drover/guest.serial.qemu")); !os.IsNotExist(err) {
				t.Errorf("the state folder of the guest not created is left: %v", err)
			}
		})
	}
}

func render(diags providers.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Summary + ": " + d.Detail + "\n")
	}
	return b.String()
}

// TestGuestDiskInUse starts two guests on one image: QEMU's own image lock
// refuses the second, which says so and leaves nothing running.
func TestGuestDiskInUse(t *testing.T) {
	t.Parallel()
	m := newMachine(t)
	m.bootDisk("/srv/fs1.img", "FS1 READY")
	first, _, diags := m.apply(cty.NullVal(guestType), m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{"boot_check": check("FS1 READY", "30s")}))
	if diags.HasErrors() {
		t.Fatalf("first guest: %v", diags)
	}
	second := m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{"serial": cty.StringVal("/var/lib/drover/second.serial")})
	_, _, diags = m.apply(cty.NullVal(guestType), second)
	if msg := render(diags); !strings.Contains(msg, "Cannot start the guest: the disk /srv/fs1.img is in use by another process: QEMU could not lock it; stop the guest or program using it first (QEMU: ") ||
		!strings.Contains(msg, `Failed to get "write" lock`) {
		t.Errorf("second guest on the same disk: %s", msg)
	}
	if pids := qemusBelow(m.root); len(pids) != 1 || pids[0] != pidOf(t, first) {
		t.Errorf("QEMU processes %v, want only the first guest's %d", pids, pidOf(t, first))
	}
	m.destroy(first)
}

// TestGuestRefusesIncompleteCopy starts guests from a drive copy's target:
// a complete generation boots, anything else is refused with the reason
// before QEMU starts.
func TestGuestRefusesIncompleteCopy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spoil func(t *testing.T, m *machine, target blocks.Target)
		want  string
	}{
		{name: "complete"},
		{name: "interrupted copy", spoil: func(t *testing.T, m *machine, target blocks.Target) {
			m.writeFile(target.Journal, []byte("half a journal"))
		}, want: "the last copy to it was interrupted; apply again to roll it back to the last complete copy and finish the copy"},
		{name: "damaged manifest", spoil: func(t *testing.T, m *machine, target blocks.Target) {
			m.writeFile(target.Manifest, []byte("not a manifest"))
		}, want: "the disk /srv/dpsr.img is a drive copy's target without a complete generation to boot: manifest /srv/dpsr.img.blocks: damaged"},
		{name: "failed verify", spoil: func(t *testing.T, m *machine, target blocks.Target) {
			man, err := target.LoadManifest(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			man.State, man.Note = blocks.Tainted, "2 blocks differ"
			if err := target.SaveManifest(t.Context(), man); err != nil {
				t.Fatal(err)
			}
		}, want: "verify found it differs from the copied data (2 blocks differ)"},
		{name: "first copy unfinished", spoil: func(t *testing.T, m *machine, target blocks.Target) {
			man, err := target.LoadManifest(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			man.State = blocks.Partial
			if err := target.SaveManifest(t.Context(), man); err != nil {
				t.Fatal(err)
			}
		}, want: "its first copy is not finished"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMachine(t)
			m.bootDisk("/srv/system.img", "FROM THE COPY")
			h := host.NewLocal("fs2", m.root)
			defer h.Close()
			target := blocks.Beside(h, "/srv/dpsr.img")
			copyDrive(t, h, "/srv/system.img", target)
			if tt.spoil != nil {
				tt.spoil(t, m, target)
			}
			state, _, diags := m.apply(cty.NullVal(guestType), m.config([]string{"/srv/dpsr.img"},
				map[string]cty.Value{"boot_check": check("FROM THE COPY", "30s")}))
			if tt.want == "" {
				if diags.HasErrors() {
					t.Fatalf("booting a complete copy: %v", diags)
				}
				m.destroy(state)
				return
			}
			msg := render(diags)
			if !strings.Contains(msg, "Guest not started: the disk /srv/dpsr.img is a drive copy's target") || !strings.Contains(msg, tt.want) {
				t.Errorf("diagnostics lack %q:\n%s", tt.want, msg)
			}
			if pids := qemusBelow(m.root); len(pids) > 0 {
				t.Errorf("QEMU started: %v", pids)
			}
		})
	}
}

// copyDrive makes target a complete copy of src, as drive_copy does.
func copyDrive(t *testing.T, h host.Host, src string, target blocks.Target) {
	t.Helper()
	ctx := t.Context()
	f, err := h.OpenFile(ctx, src, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.OpenFile(ctx, target.Path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Truncate(fi.Size()); err != nil {
		t.Fatal(err)
	}
	out.Close()
	if _, err := blocks.Copy(ctx, f, target, blocks.Options{Size: fi.Size()}); err != nil {
		t.Fatal(err)
	}
}

// TestAcceleratorFallback: where the KVM probe fails, a start uses TCG and
// the plan says why.
func TestAcceleratorFallback(t *testing.T) {
	saved := kvmUsable
	t.Cleanup(func() { kvmUsable = saved })
	kvmUsable = func() error { return errors.New("open /dev/kvm: no such device") }
	g := &guest{accelerator: "auto", disks: []string{"/srv/fs1.img"}}
	h := host.NewLocal("fs2", "")
	defer h.Close()
	accel, note := accelerator(t.Context(), h, g)
	if accel != "tcg" || note != "TCG: KVM unavailable (open /dev/kvm: no such device)" {
		t.Errorf("accelerator with a failing probe: %q, %q", accel, note)
	}
	if got := startDescription(t.Context(), h, g); !strings.HasPrefix(got, "starts the guest from 1 disk (TCG: KVM unavailable (") {
		t.Errorf("description %q", got)
	}
	g.accelerator = "kvm"
	if accel, note := accelerator(t.Context(), h, g); accel != "kvm" || note != "" {
		t.Errorf("accelerator = \"kvm\": %q, %q", accel, note)
	}
}

// TestProbeKVM runs the probe on this machine's /dev/kvm: it either works
// or says why not, within its bound. Where KVM runs guests much slower
// than TCG or not at all, the race with TCG decides, not the timeout.
func TestProbeKVM(t *testing.T) {
	start := time.Now()
	err := probeKVM(t.Context())
	took := time.Since(start)
	t.Logf("KVM probe: %v (%s)", err, took)
	if _, statErr := os.Stat("/dev/kvm"); os.IsNotExist(statErr) && err == nil {
		t.Error("the probe passed without /dev/kvm")
	}
	if took > probeRuns*probeMargin*probeTimeout+time.Second {
		t.Errorf("the probe took %s", took)
	}
	if err != nil && strings.Contains(err.Error(), "printed nothing within "+probeTimeout.String()) {
		t.Errorf("the probe waited out its timeout (%s): %v", took, err)
	}
}

// TestGuestTCPBootCheck: a start completes when the port accepts (here a
// listener of the test stands for the guest's service), and fails, leaving
// nothing running, when it does not.
func TestGuestTCPBootCheck(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	tcpCheck := func(addr string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"serial": cty.NullVal(cty.String), "tcp": cty.StringVal(addr), "timeout": cty.StringVal("2s")})
	}

	m := newMachine(t)
	m.bootDisk("/srv/fs1.img", "FS1 READY")
	state, plan, diags := m.apply(cty.NullVal(guestType), m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{"boot_check": tcpCheck(l.Addr().String())}))
	if diags.HasErrors() {
		t.Fatalf("start with a port accepting: %v", diags)
	}
	if want := "; complete when TCP " + l.Addr().String() + " accepting"; !strings.HasSuffix(plan.Description, want) {
		t.Errorf("description %q lacks %q", plan.Description, want)
	}
	m.destroy(state)

	_, _, diags = m.apply(cty.NullVal(guestType), m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{"boot_check": tcpCheck(closedAddr)}))
	if msg := render(diags); !strings.Contains(msg, "boot check TCP "+closedAddr+" accepting: not passed within 2s. The guest was stopped again.\n\nThe console (/var/lib/drover/guest.serial) ends with:\nFS1 READY") {
		t.Errorf("start with the port closed: %s", msg)
	}
	if pids := qemusBelow(m.root); len(pids) > 0 {
		t.Errorf("QEMU left running: %v", pids)
	}
}

// TestGuestStartInterrupted: a run interrupted while QEMU starts, or while
// the guest boots, ends the QEMU it started at once, without waiting for
// the guest.
func TestGuestStartInterrupted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// when says the moment to interrupt has come.
		when func(m *machine) bool
		want string
	}{
		{"while QEMU starts", func(m *machine) bool { return len(qemusBelow(m.root)) > 0 }, "context canceled"},
		{"while the guest boots", func(m *machine) bool {
			_, err := os.Stat(filepath.Join(m.root, "var/lib/drover/guest.serial.qemu/qemu.pid"))
			return err == nil
		}, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMachine(t)
			m.bootDisk("/srv/fs1.img", "FS1 READY")
			config := m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{"boot_check": check("NEVER PRINTED", "60s"), "stop_timeout": cty.StringVal("60s")})
			plan := m.p.Plan(t.Context(), providers.PlanRequest{TypeName: "vm_guest", Prior: cty.NullVal(guestType),
				Proposed: guestSchema.Block.ProposedNew(cty.NullVal(guestType), config), Config: config})
			if plan.Diagnostics.HasErrors() {
				t.Fatal(plan.Diagnostics)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go func() {
				for !tt.when(m) && ctx.Err() == nil {
					time.Sleep(5 * time.Millisecond)
				}
				cancel()
			}()
			start := time.Now()
			resp := m.p.Apply(ctx, providers.ApplyRequest{TypeName: "vm_guest", Prior: cty.NullVal(guestType), Planned: plan.Planned})
			if msg := render(resp.Diagnostics); !strings.Contains(msg, tt.want) {
				t.Errorf("the interrupted start: %s", msg)
			}
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("the interrupted start took %s", took)
			}
			if pids := qemusBelow(m.root); len(pids) > 0 {
				t.Errorf("QEMU left running after the interruption: %v", pids)
			}
		})
	}
}

// TestGuestDefinedStopped: running = false defines the guest (its state
// folder) without starting QEMU; running = true later starts it.
func TestGuestDefinedStopped(t *testing.T) {
	t.Parallel()
	m := newMachine(t)
	m.bootDisk("/srv/fs1.img", "FS1 READY")
	stopped := m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{"running": cty.False, "boot_check": check("FS1 READY", "30s")})
	state, plan, diags := m.apply(cty.NullVal(guestType), stopped)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if plan.Description != "defines the guest without starting it" || state.GetAttr("status").AsString() != statusStopped || len(qemusBelow(m.root)) > 0 {
		t.Errorf("defined stopped: %q, %#v, QEMU %v", plan.Description, state, qemusBelow(m.root))
	}
	if read := m.read(state); !read.RawEquals(state) {
		t.Errorf("read of the stopped guest:\n%#v\nwant\n%#v", read, state)
	}
	state, plan, diags = m.apply(state, m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{"boot_check": check("FS1 READY", "30s")}))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if !strings.HasPrefix(plan.Description, "starts the guest from 1 disk (TCG)") || state.GetAttr("status").AsString() != "running" {
		t.Errorf("started: %q, %#v", plan.Description, state)
	}
	m.destroy(state)
}

// TestGuestConsoleSymlink: a symlink planted at the console's path is
// replaced, never followed: QEMU would truncate what it leads to.
func TestGuestConsoleSymlink(t *testing.T) {
	t.Parallel()
	m := newMachine(t)
	m.bootDisk("/srv/fs1.img", "FS1 READY")
	m.writeFile("/etc/precious", []byte("keep me\n"))
	if err := os.MkdirAll(filepath.Join(m.root, "var/lib/drover"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(m.root, "etc/precious"), filepath.Join(m.root, "var/lib/drover/guest.serial")); err != nil {
		t.Fatal(err)
	}
	state, _, diags := m.apply(cty.NullVal(guestType), m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{"boot_check": check("FS1 READY", "30s")}))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	defer m.destroy(state)
	if b, err := os.ReadFile(filepath.Join(m.root, "etc/precious")); err != nil || string(b) != "keep me\n" {
		t.Errorf("the symlink's target: %q, %v", b, err)
	}
	if fi, err := os.Lstat(filepath.Join(m.root, "var/lib/drover/guest.serial")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the console is not a regular file: %v, %v", fi, err)
	}
}
