// Package vm is the built-in provider "vm": virtual machines Drover starts
// and stops, above all to prove that a copied disk boots.
//
//   - vm_guest: a guest of a hypervisor on a host, with its disks (raw
//     image files, a drive_copy's target among them), memory, CPUs, a
//     serial console kept in a file, and whether it runs. A start is
//     complete only when the guest passes its boot_check (a marker on the
//     console, a TCP port). Hypervisors, on local and SSH hosts: "qemu", where
//     QEMU runs as a daemon of its own (its own session, a pidfile and a
//     QMP socket in the guest's state folder), so it outlives the
//     provider process, and every later call finds it again through the
//     pidfile and drives it through QMP (go-qemu); and "libvirt", a
//     domain of the libvirtd of the provider's libvirt_uri (go-libvirt,
//     the domain XML built with encoding/xml), whose state libvirt keeps;
//     and "vsphere", a VM registered on datastore files through govmomi
//     (provider settings vsphere_url, _user, _password, _insecure).
//
// Split-brain guard: a guest naming its source_guest does not start while
// that guest runs, as its own hypervisor says live (fence.go), unless
// force is set.
//
// Shared folders: a folder of the host is copied into a FAT32 image
// (go-diskfs) at each start and attached after the guest's disks.
//
// Acceleration: KVM when QEMU boots a probe boot sector under KVM and it
// prints within three times what the same sector booted under TCG at once
// takes, three times running (probeKVM; nested KVM is often present but
// unreliable, or emulated and much slower than TCG), else QEMU's TCG, and
// the plan says why.
// A decided verdict is kept on the machine for its boot, /dev/kvm and
// QEMU (kvmVerdict), so that later runs start without probing.
//
// It refuses to start a guest from a drive_copy target that holds no
// complete generation (the blocks package's Status says why), and leaves
// no QEMU process behind a start that failed: a QEMU is known by its pid
// and command line, never by its pidfile alone, which QEMU removes as it
// begins to exit. It never writes a guest's
// disks itself, but for committing back the overlay a drive_copy of a
// running guest left when it was killed (package guestdisk), before a
// start and after a stop (of a libvirt guest, before its undefine).
// guest_agent gives a QEMU or libvirt guest the agent's channel, which
// guestdisk uses to freeze file systems; a libvirt guest's state records
// libvirt_uri, for guestdisk to reach its domain.
//
// Remote hosts: what the qemu hypervisor does on the guest's machine
// (pidfile and /proc, QMP, SIGKILL, the KVM probe, folder images) is host
// ops (machine.go), run in this process for a local host and by the agent
// for an SSH host; QEMU is launched through the host's Run. A libvirt
// guest's libvirtd socket is reached through the host's transport
// (DialUnix: sshd's stream forwarding). Not here yet: networks.
package vm
