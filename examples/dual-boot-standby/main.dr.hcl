# Dual-boot failover: the standby fs2 boots either its own OS or the source's OS,
# which replication keeps on fs2's second partition. Failover makes the source OS
# the default and reboots fs2, which comes up as fs1. See README.md.

variable "failover" {
  type        = bool
  default     = false
  description = "true while fs2 stands in for fs1: the source OS is the default."
}

host "fs2" { root = "sim/fs2" }

resource "boot_entry" "standby_os" {
  host    = host.fs2
  loader  = "bootini"
  path    = "multi(0)disk(0)rdisk(0)partition(1)\\WINNT"
  label   = "FS2 - Windows Server"
  options = "/fastdetect"
  default = !var.failover
  timeout = 10
}

resource "boot_entry" "source_os" {
  host    = host.fs2
  loader  = "bootini"
  path    = "multi(0)disk(0)rdisk(0)partition(2)\\WINNT"
  label   = "Source - Windows Server (FS1)"
  options = "/fastdetect"
  default = var.failover
}
