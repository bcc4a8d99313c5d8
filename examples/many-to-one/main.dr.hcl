# Many to one: three servers' guests fail over onto one standby. Each
# source server (fs1, fs2, fs3, played by folders under sim/) keeps its
# guest's system disk in /srv/vm; a replication set mirrors each to the
# standby, and the standby starts the three guests from the replicas, in
# parallel, each start complete only when its own marker is on its console.
# README.md makes the three disks (boot sectors printing FS1 UP, ...).

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

# The three guests on the standby. Each waits for every replica, so that
# the three are started together (apply's walk starts what is ready in
# parallel). snapshot keeps the replicas as the sources left them: the
# next mirror must not meet a disk a guest wrote to.
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
  depends_on   = [replication_set.guest]

  boot_check {
    serial  = "${upper(each.key)} UP"
    timeout = "60s"
  }
}

output "running" {
  value = { for name, g in vm_guest.standby : name => g.status }
}
