package vm

import (
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers"
	"github.com/zclconf/go-cty/cty"
)

// libvirtd is a libvirtd (and the virtlogd it logs consoles through) of a
// test's own: its sockets and pidfiles in a folder of the test, so that
// the machine's libvirtd, if any, is untouched. It runs privileged (as
// root): QEMU runs as libvirt's user, and the guests it defines are kept
// in /etc/libvirt/qemu until undefined, which the test checks.
type libvirtd struct {
	dir string
	uri string
}

// newLibvirtd starts libvirtd and virtlogd for t and stops them (by pid)
// when t ends, undefining what a failed test left.
func newLibvirtd(t *testing.T) *libvirtd {
	t.Helper()
	testenv.Root(t)
	daemon := testenv.Command(t, "libvirtd", "libvirt-daemon-system")
	logd := testenv.Command(t, "virtlogd", "libvirt-daemon-system")
	kvmForLibvirt(t)
	dir, err := os.MkdirTemp("", "lv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	conf := `unix_sock_dir = "` + dir + `"
listen_tls = 0
listen_tcp = 0
auth_unix_rw = "none"
auth_unix_ro = "none"
`
	if err := os.WriteFile(filepath.Join(dir, "libvirtd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func(argv ...string) {
		cmd := exec.Command(argv[0], argv[1:]...)
		log, err := os.Create(filepath.Join(dir, filepath.Base(argv[0])+".log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
			log.Close()
		})
	}
	start(logd, "--pid-file", filepath.Join(dir, "virtlogd.pid"))
	start(daemon, "--config", filepath.Join(dir, "libvirtd.conf"), "--pid-file", filepath.Join(dir, "libvirtd.pid"))
	d := &libvirtd{dir: dir, uri: "qemu:///system?socket=" + filepath.Join(dir, "libvirt-sock")}
	began := time.Now()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if lv, err := d.connect(); err == nil {
			lv.Disconnect()
			t.Logf("libvirtd answered after %s", time.Since(began).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "libvirtd.log"))
			t.Fatalf("libvirtd did not answer on %s within 60s:\n%s", d.uri, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return d
}

// kvmForLibvirt gives the kvm group /dev/kvm, as Debian's udev rule does
// where udev runs. libvirt runs QEMU as its own user (in that group) and,
// while that user cannot open /dev/kvm, takes the QEMU capabilities it
// probed (with KVM) for stale: it probed QEMU again at every domain
// lookup, 4 s each, and a libvirt test took a minute and a half instead
// of seconds.
func kvmForLibvirt(t *testing.T) {
	t.Helper()
	fi, err := os.Stat("/dev/kvm")
	if err != nil {
		return // no KVM: nothing for libvirt to probe
	}
	g, err := user.LookupGroup("kvm")
	if err != nil {
		return
	}
	gid, _ := strconv.Atoi(g.Gid)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Gid) == gid && fi.Mode().Perm()&0o060 == 0o060 {
		return
	}
	if err := os.Chown("/dev/kvm", -1, gid); err != nil {
		t.Fatalf("giving libvirt's QEMU user /dev/kvm: %v", err)
	}
	if err := os.Chmod("/dev/kvm", fi.Mode().Perm()|0o060); err != nil {
		t.Fatalf("giving libvirt's QEMU user /dev/kvm: %v", err)
	}
	t.Logf("gave the kvm group /dev/kvm (chgrp kvm; chmod g+rw), as Debian's udev rule does, for libvirt's QEMU user")
}

func (d *libvirtd) connect() (*libvirt.Libvirt, error) {
	u, _ := url.Parse(d.uri)
	return libvirt.ConnectToURI(u)
}

// client is the test's own connection, to act behind Drover's back and
// to check what Drover left; domains named like the test's guests are
// undefined at the end, and their being there fails the test.
func (d *libvirtd) client(t *testing.T, names ...string) *libvirt.Libvirt {
	t.Helper()
	lv, err := d.connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range names {
			if dom, err := lv.DomainLookupByName(n); err == nil {
				t.Errorf("domain %q left defined", n)
				lv.DomainDestroy(dom)
				lv.DomainUndefine(dom)
			}
		}
		lv.Disconnect()
	})
	return lv
}

// libvirtMachine is a machine whose provider talks to d. libvirt runs QEMU
// as its own user, which must get through the machine's folder.
func libvirtMachine(t *testing.T, d *libvirtd) *machine {
	m := newMachine(t)
	if err := os.Chmod(m.root, 0o755); err != nil {
		t.Fatal(err)
	}
	resp := m.p.Configure(t.Context(), providers.ConfigureRequest{Config: cty.ObjectVal(map[string]cty.Value{
		"libvirt_uri": cty.StringVal(d.uri)})})
	if resp.Diagnostics.HasErrors() {
		t.Fatal(resp.Diagnostics)
	}
	return m
}

// TestLibvirtGuest runs its cases against one libvirtd: one takes seconds
// to start on a busy machine.
func TestLibvirtGuest(t *testing.T) {
	d := newLibvirtd(t)
	t.Run("lifecycle", func(t *testing.T) { testLibvirtLifecycle(t, d, libvirtMachine(t, d)) })
	// The guest's host is an SSH host: libvirtd's socket is reached
	// through sshd, its files through the agent.
	t.Run("lifecycle over ssh", func(t *testing.T) {
		m := libvirtMachine(t, d)
		m.overSSH("fs2")
		testLibvirtLifecycle(t, d, m)
	})
	t.Run("refusals", func(t *testing.T) { testLibvirtRefusals(t, d) })
}

func testLibvirtLifecycle(t *testing.T, d *libvirtd, m *machine) {
	name := "drover-test-" + filepath.Base(m.root)
	lv := d.client(t, name)
	m.bootDisk("/srv/fs1.img", "FS1 READY libvirt")
	m.writeFile("/replica/fs1/share/orders.csv", []byte("id,total\n"))
	share := sharedFolder{path: "/replica/fs1/share", image: "/var/lib/drover/fs1-share.img"}
	attrs := map[string]cty.Value{"hypervisor": cty.StringVal("libvirt"), "name": cty.StringVal(name),
		"boot_check": check("FS1 READY libvirt", "30s"), "shared_folder": sharedFolders(share)}
	config := m.config([]string{"/srv/fs1.img"}, attrs)

	state, plan, diags := m.apply(cty.NullVal(guestType), config)
	if diags.HasErrors() {
		t.Fatalf("start: %v", diags)
	}
	if plan.Description != `starts the guest from 1 disk and 1 shared folder (TCG); complete when "FS1 READY libvirt" on the console` {
		t.Errorf("plan description %q", plan.Description)
	}
	dom, err := lv.DomainLookupByName(name)
	if err != nil {
		t.Fatalf("no domain %q after the start: %v", name, err)
	}
	if st, _, err := lv.DomainGetState(dom, 0); err != nil || libvirt.DomainState(st) != libvirt.DomainRunning {
		t.Errorf("libvirt says state %d (%v) after the start", st, err)
	}
	// The shared folder's image is the domain's second disk, and holds
	// the folder's file.
	desc, err := lv.DomainGetXMLDesc(dom, 0)
	if err != nil {
		t.Fatal(err)
	}
	image := filepath.Join(m.root, share.image)
	if !strings.Contains(desc, "<source file='"+image+"'") || !strings.Contains(desc, "<target dev='hdb' bus='ide'/>") {
		t.Errorf("the domain has not the folder's image as hdb:\n%s", desc)
	}
	if got := readFAT(t, image); got["orders.csv"] != "id,total\n" {
		t.Errorf("the folder's image holds %q", got)
	}
	if got := state.GetAttr("status").AsString() + " " + state.GetAttr("accelerator_in_use").AsString(); got != "running tcg" {
		t.Errorf("status and accelerator %q", got)
	}
	if !strings.Contains(m.console(), "FS1 READY libvirt") {
		t.Errorf("console %q", m.console())
	}
	if read := m.read(state); !read.RawEquals(state) {
		t.Errorf("read after start:\n%#v\nwant\n%#v", read, state)
	}

	// Drift: the domain is forced off behind Drover's back; refresh sees
	// it, apply starts it again and the boot check passes anew.
	if err := lv.DomainDestroy(dom); err != nil {
		t.Fatal(err)
	}
	read := m.read(state)
	if read.GetAttr("status").AsString() != statusStopped || read.GetAttr("running").True() {
		t.Fatalf("a domain forced off reads as %#v", read)
	}
	state, plan, diags = m.apply(read, config)
	if diags.HasErrors() {
		t.Fatalf("start after drift: %v", diags)
	}
	if !strings.HasPrefix(plan.Description, "starts the guest") || state.GetAttr("status").AsString() != "running" {
		t.Errorf("start after drift: %q, %#v", plan.Description, state)
	}

	// Paused behind Drover's back: apply resumes it.
	if err := lv.DomainSuspend(dom); err != nil {
		t.Fatal(err)
	}
	if read := m.read(state); read.GetAttr("status").AsString() != "paused" {
		t.Errorf("a suspended domain reads as %#v", read)
	} else if state, _, diags = m.apply(read, config); diags.HasErrors() {
		t.Fatalf("resuming: %v", diags)
	}
	if st, _, _ := lv.DomainGetState(dom, 0); libvirt.DomainState(st) != libvirt.DomainRunning {
		t.Errorf("libvirt says state %d after the resume", st)
	}

	// The guest actions act through libvirt too: a fence stops the
	// domain, and stops nothing the second time; a failback starts it.
	if got := m.act("guest_stop", state); got != "stopped" {
		t.Errorf("guest_stop: %q", got)
	}
	if st, _, _ := lv.DomainGetState(dom, 0); libvirt.DomainState(st) != libvirt.DomainShutoff {
		t.Errorf("libvirt says state %d after guest_stop", st)
	}
	if got := m.act("guest_stop", state); got != "not running" {
		t.Errorf("guest_stop of a stopped guest: %q", got)
	}
	if got := m.act("guest_start", state); got != "running" || !strings.Contains(m.console(), "FS1 READY libvirt") {
		t.Errorf("guest_start: %q, console %q", got, m.console())
	}
	if st, _, _ := lv.DomainGetState(dom, 0); libvirt.DomainState(st) != libvirt.DomainRunning {
		t.Errorf("libvirt says state %d after guest_start", st)
	}

	// Stop: a boot sector ignores the ACPI request; forced off after
	// stop_timeout.
	attrs["running"] = cty.False
	state, _, diags = m.apply(state, m.config([]string{"/srv/fs1.img"}, attrs))
	if diags.HasErrors() {
		t.Fatalf("stop: %v", diags)
	}
	if st, _, _ := lv.DomainGetState(dom, 0); libvirt.DomainState(st) != libvirt.DomainShutoff || state.GetAttr("status").AsString() != statusStopped {
		t.Errorf("after the stop libvirt says state %d, the state %#v", st, state)
	}
	if read := m.read(state); !read.RawEquals(state) {
		t.Errorf("read after stop:\n%#v\nwant\n%#v", read, state)
	}

	m.destroy(state)
	if _, err := lv.DomainLookupByName(name); !libvirt.IsNotFound(err) {
		t.Errorf("domain still defined after destroy: %v", err)
	}
	if read := m.read(state); !read.IsNull() {
		t.Errorf("read after destroy: %#v", read)
	}
}

// testLibvirtRefusals covers a libvirt start that must fail and leave no
// domain behind, and a name libvirt has already.
func testLibvirtRefusals(t *testing.T, d *libvirtd) {
	m := libvirtMachine(t, d)
	name := "drover-test-" + filepath.Base(m.root)
	lv := d.client(t, name)
	m.bootDisk("/srv/fs1.img", "FS1 READY gen 1")
	attrs := map[string]cty.Value{"hypervisor": cty.StringVal("libvirt"), "name": cty.StringVal(name),
		"boot_check": check("FS1 READY gen 2", "3s")}
	_, _, diags := m.apply(cty.NullVal(guestType), m.config([]string{"/srv/fs1.img"}, attrs))
	msg := render(diags)
	for _, w := range []string{"Guest failed its boot check", "not passed within 3s. The guest was forced off again.",
		"The console (/var/lib/drover/guest.serial) ends with:\nFS1 READY gen 1"} {
		if !strings.Contains(msg, w) {
			t.Errorf("diagnostics lack %q:\n%s", w, msg)
		}
	}
	if _, err := lv.DomainLookupByName(name); !libvirt.IsNotFound(err) {
		t.Errorf("domain defined after the failed start: %v", err)
	}

	// A domain of that name that Drover did not define is not taken over.
	other := strings.Replace(`<domain type='qemu'><name>NAME</name><memory unit='MiB'>16</memory>
<os><type arch='x86_64'>hvm</type></os></domain>`, "NAME", name, 1)
	if _, err := lv.DomainDefineXML(other); err != nil {
		t.Fatal(err)
	}
	attrs["boot_check"] = check("FS1 READY gen 1", "30s")
	_, _, diags = m.apply(cty.NullVal(guestType), m.config([]string{"/srv/fs1.img"}, attrs))
	if msg := render(diags); !strings.Contains(msg, `Domain exists: libvirt has a domain named "`+name+`" already`) {
		t.Errorf("diagnostics:\n%s", msg)
	}
	dom, err := lv.DomainLookupByName(name)
	if err != nil {
		t.Fatal(err)
	}
	if desc, _ := lv.DomainGetXMLDesc(dom, 0); strings.Contains(desc, "Drover") {
		t.Errorf("the other domain was redefined:\n%s", desc)
	}
	lv.DomainUndefine(dom)
}
