package vm

import (
	"strings"
	"syscall"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/agent"
	"github.com/drover-dr/drover/host/ssh"
	"github.com/drover-dr/drover/internal/agenttest"
	"github.com/drover-dr/drover/internal/sshtest"
	"github.com/drover-dr/drover/providers"
	"github.com/zclconf/go-cty/cty"
)

func TestMain(m *testing.M) { agenttest.Main(m) }

// sshMachine is a machine reached through a real sshd.
func sshMachine(t *testing.T, name string) (*machine, *sshtest.Server) {
	t.Helper()
	m := newMachine(t)
	return m, m.overSSH(name)
}

// overSSH makes m's host an SSH host of a real sshd, rooted at the
// machine's folder as its local host is.
func (m *machine) overSSH(name string) *sshtest.Server {
	m.t.Helper()
	s := sshtest.Start(m.t)
	m.t.Cleanup(func() { ssh.CloseShared() })
	m.h = host.Config{Name: name, Address: s.Addr, User: s.User, IdentityFile: s.Identity,
		KnownHosts: s.KnownHosts, Root: m.root}.Value()
	return s
}

// TestGuestOnSSHHost starts a QEMU guest on an SSH host: it passes its boot
// check, outlives the SSH connections that started it, reads as running
// through new ones, and stops with no QEMU left on the machine.
func TestGuestOnSSHHost(t *testing.T) {
	m, s := sshMachine(t, "fs2")
	m.bootDisk("/srv/fs1.img", "FS1 READY over ssh")
	m.writeFile("/srv/share/hello.txt", []byte("hello"))
	folder := sharedFolders(sharedFolder{path: "/srv/share", image: "/var/lib/drover/share.img"})

	// A start that fails its boot check ends the QEMU it launched on the
	// machine.
	_, _, diags := m.apply(cty.NullVal(guestType), m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{"boot_check": check("FS1 NEVER", "2s")}))
	if msg := render(diags); !strings.Contains(msg, "Guest failed its boot check") || !strings.Contains(msg, "The guest was stopped again.") {
		t.Errorf("diagnostics of the failed start:\n%s", msg)
	}
	if pids := qemusBelow(m.root); len(pids) > 0 {
		t.Fatalf("QEMU %v left running by the failed start", pids)
	}

	config := m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{
		"boot_check": check("FS1 READY over ssh", "60s"), "shared_folder": folder, "accelerator": cty.StringVal("auto")})
	state, plan, diags := m.apply(cty.NullVal(guestType), config)
	if diags.HasErrors() {
		t.Fatalf("start: %v", diags)
	}
	if !strings.HasPrefix(plan.Description, "starts the guest from 1 disk and 1 shared folder (") {
		t.Errorf("plan: %q", plan.Description)
	}
	pid := pidOf(t, state)
	if pids := qemusBelow(m.root); len(pids) != 1 || pids[0] != pid {
		t.Fatalf("QEMU processes %v, want the guest's %d", pids, pid)
	}
	if got := readFAT(t, m.root+"/var/lib/drover/share.img"); got["hello.txt"] != "hello" {
		t.Errorf("the shared folder's image holds %v", got)
	}

	// Every SSH connection ends: QEMU daemonized and runs on, and a new
	// connection finds it by its pidfile.
	ssh.CloseShared()
	sshtest.WaitFor(t, "every SSH connection to end", func() bool { return len(s.ConnectionPIDs(t)) == 0 })
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("QEMU (pid %d) ended with the SSH connection: %v", pid, err)
	}
	if read := m.read(state); !read.RawEquals(state) {
		t.Errorf("refresh through a new connection:\n%#v\nwant\n%#v", read, state)
	}

	stopped := m.config([]string{"/srv/fs1.img"}, map[string]cty.Value{
		"boot_check": check("FS1 READY over ssh", "60s"), "shared_folder": folder, "accelerator": cty.StringVal("auto"), "running": cty.False})
	state, _, diags = m.apply(state, stopped)
	if diags.HasErrors() {
		t.Fatalf("stop: %v", diags)
	}
	if pids := qemusBelow(m.root); len(pids) > 0 {
		t.Errorf("QEMU %v still runs after the stop (the guest's was %d)", pids, pid)
	}
	if read := m.read(state); read.GetAttr("status").AsString() != statusStopped {
		t.Errorf("read after the stop: %#v", read)
	}
	m.destroy(state)
}

// TestGuestOnSSHHostWithoutAgent: a machine that cannot run the agent
// cannot run QEMU guests, nor build a shared folder's image; the plan
// refuses the host at its line and says why. A libvirt guest without one
// needs no agent: libvirtd's socket is reached through sshd.
func TestGuestOnSSHHostWithoutAgent(t *testing.T) {
	m, _ := sshMachine(t, "fs3")
	agent.Enable()
	t.Cleanup(func() { agent.Enable(agenttest.Command) })
	m.bootDisk("/srv/fs1.img", "FS1 READY")
	libvirt := cty.StringVal("libvirt")
	folder := sharedFolders(sharedFolder{path: "/srv/share", image: "/var/lib/drover/share.img"})
	tests := []struct {
		name  string
		attrs map[string]cty.Value
		want  string // in the refusal's detail; "" for a plan
	}{
		{"qemu", nil, "Drover does a QEMU guest's work (QEMU's pidfile, QMP socket, KVM probe) on the guest's machine, which host \"fs3\" cannot"},
		{"libvirt with a shared folder", map[string]cty.Value{"hypervisor": libvirt, "shared_folder": folder},
			"Drover does the image of a shared folder on the guest's machine, which host \"fs3\" cannot"},
		{"libvirt", map[string]cty.Value{"hypervisor": libvirt}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := m.config([]string{"/srv/fs1.img"}, tt.attrs)
			plan := m.p.Plan(t.Context(), providers.PlanRequest{TypeName: "vm_guest", Prior: cty.NullVal(guestType),
				Proposed: guestSchema.Block.ProposedNew(cty.NullVal(guestType), config), Config: config})
			diags := plan.Diagnostics
			if tt.want == "" {
				if diags.HasErrors() {
					t.Fatalf("plan: %s", render(diags))
				}
				return
			}
			if !diags.HasErrors() {
				t.Fatalf("planned without the agent: %q", plan.Description)
			}
			d := diags[0]
			if d.Summary != "Host cannot run the guest" || !d.Path.Equals(cty.GetAttrPath("host")) ||
				!strings.Contains(d.Detail, tt.want) || !strings.Contains(d.Detail, "does not serve the agent") {
				t.Errorf("diagnostic %s at %#v: %s", d.Summary, d.Path, d.Detail)
			}
		})
	}
}
