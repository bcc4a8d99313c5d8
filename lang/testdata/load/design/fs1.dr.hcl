drover {
  required_version = ">= 0.1"
  backend "local" {
    path = "state.json"
  }
  required_providers {
    disk = { source = "drover/disk", version = "1.0.0" }
  }
}

host "fs1" { address = "fs1.example.net" }
host "fs2" {
  address   = "fs2.example.net"
  transport = "ssh"
  user      = "dr"
  port      = 22
}

variable "quiesce" {
  type        = string
  default     = "5s"
  description = "Quiet time before a copy."
  validation {
    condition     = endswith(var.quiesce, "s")
    error_message = "The quiet time is given in seconds, like 5s."
  }
}

locals {
  replica = "/replica/${host.fs1.name}"
}

resource "drive_copy" "dpsr" {
  host       = host.fs1
  source     = "/dev/sda"
  target     = "/dev/sdb"
  partitions = [1, 2]
  verify     = true
  quiesce    = var.quiesce

  lifecycle {
    prevent_destroy = true
    ignore_changes  = [partitions, source]
  }
  timeouts {
    create = "2h"
    update = "30m"
  }
}

resource "replication_set" "repset" {
  source {
    host = host.fs1
    path = "/srv/repset"
  }
  target {
    host = host.fs2
    path = local.replica
  }
  exclude    = ["*.tmp"]
  depends_on = [drive_copy.dpsr]
}

resource "registry_capture" "doubletake" {
  host = host.fs1
  key  = "HKLM\\Software\\Vendor\\Product\\CurrentVersion"
  file = "/srv/repset/product.reg"
}

resource "boot_entry" "source_os" {
  host   = host.fs2
  loader = "bootini"
  path   = "multi(0)disk(0)rdisk(0)partition(1)\\WINNT"
  label  = "Source - Windows Server"
}

output "replica" {
  value       = replication_set.repset.target[0].path
  description = "Where the replica lives."
}
