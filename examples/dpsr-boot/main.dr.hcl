# The backup drive boots: a DPSR drive kept a sector-by-sector copy of a
# system drive, and a guest that boots the copy on its own, proving after
# every copy that the latest generation boots. Both drives are image files
# on a server played by a folder (sim/fs1); README.md makes the system
# drive: a boot sector that prints a marker on the serial console.

host "fs1" {
  root = "sim/fs1"
}

variable "marker" {
  type        = string
  default     = "DPSR GEN 1"
  description = "What the system drive's boot sector prints; the boot check waits for it."
}

# The backup drive: created sparse, as large as the system drive.
resource "drive" "dpsr" {
  host = host.fs1
  path = "/srv/dpsr.img"
  size = "1MiB"
}

resource "drive_copy" "dpsr" {
  host   = host.fs1
  source = "/srv/system.img"
  target = drive.dpsr.path
  verify = true
}

# Boots the backup, never the system drive. snapshot keeps the backup as
# the copy left it (the guest's writes go to a throwaway overlay), and
# each new generation restarts the guest, whose start completes only when
# the marker is on its console.
resource "vm_guest" "dpsr" {
  host             = host.fs1
  disks            = [drive_copy.dpsr.target]
  memory           = "32MiB"
  serial           = "/var/lib/drover/dpsr.serial"
  snapshot         = true
  triggers_replace = drive_copy.dpsr.generation
  accelerator      = "tcg"  # a boot sector needs no KVM; "auto" probes it
  stop_timeout     = "2s"   # a boot sector ignores the ACPI power button

  boot_check {
    serial  = var.marker
    timeout = "60s"
  }
}

output "booted" {
  value = "generation ${drive_copy.dpsr.generation} boots (${vm_guest.dpsr.accelerator_in_use})"
}
