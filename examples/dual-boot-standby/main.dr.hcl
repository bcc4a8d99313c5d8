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

# The same failover as a runbook: `drover failover` makes the source OS the
# default and reboots fs2 (bin/reboot plays the reboot, bin/bootid the probe
# that sees it come back); `drover failback` makes fs2's own OS the default
# again. While the runbook is in force, plan shows the defaults as drift
# from failover = false.
runbook "failover" {
  step "boot" {
    set_default    = boot_entry.source_os
    reboot         = true
    reboot_command = ["/bin/reboot"]
    reboot_probe   = ["/bin/bootid"]
    timeout        = "30s"
  }
}
