# fs1, the file server, has failed. Its standby fs2 takes over fs1's
# network identity, so that users reconnect without changing anything:
# the address 192.0.2.10, the DNS record fs1.example.test, the name fs1
# (and FS1 for SMB clients), and the share \\FS1\data.
#
# `drover failover` runs the runbook below: a check that fs2's smbd answers,
# a person's word that fs1 is down, the identity taken over, and a look at
# the name fs2 answers to now. `drover failback` gives the identity back,
# every part in reverse order.

drover {
  backend "local" { path = "drover.state.json" }
}

variable "fs1_netns" {
  type        = string
  description = "The network namespace playing fs1 (ip netns); the machine's own when empty."
  default     = ""
}
variable "fs2_netns" {
  type        = string
  description = "The network namespace playing fs2."
  default     = ""
}
variable "dns_server" {
  type        = string
  description = "host:port of the primary DNS server of example.test, which takes signed updates."
}
variable "tsig_name" {
  type    = string
  default = "drover"
}
variable "tsig_secret" {
  type      = string
  sensitive = true
}
variable "smb_conf" {
  type        = string
  description = "fs2's Samba configuration; Drover adds one include line to it and keeps its files in drover.d beside it."
  default     = "/etc/samba/smb.conf"
}
variable "data_path" {
  type        = string
  description = "The folder fs2 serves as fs1's share: where the replication set mirrors fs1's data (sim/fs2/srv/data here)."
}

host "fs1" { netns = var.fs1_netns == "" ? null : var.fs1_netns }
host "fs2" { netns = var.fs2_netns == "" ? null : var.fs2_netns }

runbook "failover" {
  # smbd must answer before fs2 takes the share over: a reload of a
  # server that is not running would fail halfway through the identity.
  step "pre" {
    host    = host.fs2
    run     = ["smbcontrol", "-s", var.smb_conf, "smbd", "ping"]
    timeout = "30s"
  }

  # Taking the address of a server that is only cut off from Drover, not
  # down, is how split-brain starts: the probe refuses an address fs1 still
  # answers for, but a person confirms first.
  step "confirm" {
    after  = [step.pre]
    prompt = "Is fs1 down (powered off or cut off from its clients)? fs2 takes over its name, address, DNS record and share."
  }

  step "identity" {
    after = [step.confirm]

    resource "network_identity" "fs1" {
      host         = host.fs2
      release_from = host.fs1 # fs1's address is removed there first, if fs1 is still reachable

      host_name       = "fs1"
      netbios_aliases = ["FS1"]
      smb_conf        = var.smb_conf

      address {
        interface = "eth0"
        address   = "192.0.2.10/24"
      }

      dns_record {
        server = var.dns_server
        zone   = "example.test"
        name   = "fs1"
        type   = "A"
        ttl    = 60
        values = ["192.0.2.10"]
        tsig   = { name = var.tsig_name, algorithm = "hmac-sha256", secret = var.tsig_secret }
      }

      share {
        name      = "data"
        path      = var.data_path
        read_only = false
        comment   = "fs1's data, served by the standby"
      }
    }
  }

  step "post" {
    after = [step.identity]
    host  = host.fs2
    run   = ["hostname"]
  }
}
