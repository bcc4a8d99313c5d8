# Many to one: three servers' guests fail over onto one standby. Each
# source server (fs1, fs2, fs3, played by folders under sim/) runs a guest
# from its system disk in /srv/vm; a replication set mirrors each disk to
# the standby. Failover (apply --var failover=true) stops the three source
# guests (the fence against split-brain) and starts the three replicas on
# the standby from the mirrored disks, in parallel, each start complete
# only when its own marker is on its own console. README.md makes the
# three disks (boot sectors printing FS1 UP, ...).

variable "failover" {
  type        = bool
  default     = false
  description = "Whether the standby runs the guests instead of their source servers."
}

variable "sources" {
  type        = set(string)
  default     = ["fs1", "fs2", "fs3"]
  description = "The source servers whose guests the standby takes over."
}

host "fs1" {
  root = "sim/fs1"
}

host "fs2" {
  root = "sim/fs2"
}

host "fs3" {
  root = "sim/fs3"
}

host "standby" {
  root = "sim/standby"
}

locals {
  hosts = { fs1 = host.fs1, fs2 = host.fs2, fs3 = host.fs3 }
}

# The guests on their source servers. snapshot: a boot sector writes
# nothing, and the disk stays as the mirror reads it.
resource "vm_guest" "source" {
  for_each     = var.sources
  host         = local.hosts[each.key]
  name         = each.key
  disks        = ["/srv/vm/system.img"]
  memory       = "32MiB"
  serial       = "/var/lib/drover/${each.key}.serial"
  snapshot     = true
  running      = !var.failover
  accelerator  = "tcg" # a boot sector needs no KVM; "auto" probes it
  stop_timeout = "2s"  # a boot sector ignores the ACPI power button

  boot_check {
    serial  = "${upper(each.key)} UP"
    timeout = "60s"
  }
}

# Each source's guest disk folder, mirrored to standby:/replica/NAME/srv/vm.
resource "replication_set" "guest" {
  for_each = var.sources
  source {
    host = local.hosts[each.key]
    path = "/srv/vm"
  }
  target {
    host = host.standby
    path = "/replica/${each.key}"
  }
  delete_orphans = true
}

# The three replicas on the standby. Each names its source guest: it does
# not start while that one runs (split-brain). Each waits for every
# replica and every source guest, so that the three are started together
# (apply's walk starts what is ready in parallel). snapshot keeps the
# replicas as the sources left them: the next mirror must not meet a disk
# a guest wrote to.
resource "vm_guest" "standby" {
  for_each     = var.sources
  host         = host.standby
  name         = each.key
  disks        = ["/replica/${each.key}/srv/vm/system.img"]
  memory       = "32MiB"
  serial       = "/var/lib/drover/${each.key}.serial"
  snapshot     = true
  accelerator  = "tcg" # a boot sector needs no KVM; "auto" probes it
  stop_timeout = "2s"  # a boot sector ignores the ACPI power button
  running      = var.failover
  source_guest = vm_guest.source[each.key]
  depends_on   = [replication_set.guest, vm_guest.source]

  boot_check {
    serial  = "${upper(each.key)} UP"
    timeout = "60s"
  }
}

output "standby" {
  value = { for name, g in vm_guest.standby : name => g.status }
}
