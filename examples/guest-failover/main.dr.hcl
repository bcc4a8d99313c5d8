# fs1 runs its server as a guest; fs2 is its standby. A drive copy keeps
# fs1's guest disk on fs2, and the failover runbook fences fs1's guest (it
# stops it) before it starts the replica guest on fs2 from the copy: two
# copies of one server on one network is split-brain. The replica's start
# completes only when its console shows the server's boot marker.
# `drover failback` stops the replica, then starts fs1's guest again.
#
# fs1 and fs2 are played by folders of this machine (sim/fs1, sim/fs2),
# named by absolute paths: QEMU names files from the machine's /. The copy
# runs on fs2, which reads fs1's disk where fs1 shares it (here, its
# folder).

drover {
  backend "local" { path = "drover.state.json" }
}

variable "marker" {
  type        = string
  default     = "FS1 READY"
  description = "What fs1's boot sector prints on the console when it is up."
}

locals {
  sim = "${path.module}/sim"
}

host "fs1" {}
host "fs2" {}

# The server, running on fs1.
resource "vm_guest" "fs1" {
  host         = host.fs1
  disks        = ["${local.sim}/fs1/srv/fs1.img"]
  memory       = "32MiB"
  serial       = "${local.sim}/fs1/fs1.serial"
  accelerator  = "tcg" # a boot sector needs no KVM; "auto" probes it
  stop_timeout = "2s"  # a boot sector ignores the ACPI power button

  boot_check {
    serial  = var.marker
    timeout = "60s"
  }
}

# fs1's disk, copied block by block to fs2 while the guest runs. source_guest
# says whose disk it is: while fs1's guest runs, its QEMU holds the disk
# still for the copy (an external snapshot; the guest writes on to an overlay
# that is committed back after), so the copy is the disk at one moment. A
# guest with guest_agent = true and an agent inside has its file systems
# frozen for that moment; without one, as here, the copy is crash-consistent
# and the plan says so.
resource "drive" "fs1_replica" {
  host = host.fs2
  path = "${local.sim}/fs2/srv/fs1-replica.img"
  size = "1MiB"
}

resource "drive_copy" "fs1" {
  host         = host.fs2
  source       = vm_guest.fs1.disks[0]
  source_guest = vm_guest.fs1
  target       = drive.fs1_replica.path
  verify       = true
}

runbook "failover" {
  # The fence: fs1's guest stops first (failback starts it again).
  step "fence" {
    stop = vm_guest.fs1
  }

  # fs1's server on fs2, from the replica. Its start completes when the
  # marker is on its console.
  step "replica" {
    after = [step.fence]

    # source_guest: refused to start while fs1's guest still runs, should
    # the fence above ever not have stopped it.
    resource "vm_guest" "fs1_replica" {
      host         = host.fs2
      source_guest = vm_guest.fs1
      disks        = [drive_copy.fs1.target]
      memory       = "32MiB"
      serial       = "${local.sim}/fs2/fs1.serial"
      accelerator  = "tcg"
      stop_timeout = "2s"

      boot_check {
        serial  = var.marker
        timeout = "60s"
      }
    }
  }
}
