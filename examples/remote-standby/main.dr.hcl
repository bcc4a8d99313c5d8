# Remote standby: two machines reached over SSH. fs1 is the production
# file server, fs2 its standby. Drover mirrors fs1's data to fs2 (the data
# flows through this machine's two SSH connections) and keeps on fs2 a
# verified block copy of the standby's system drive. README.md says how to
# point it at your machines; DROVER_VAR_fs1_address=... and the like set
# the variables without editing this file.
#
#   drover --chdir=examples/remote-standby hosts check
#   drover --chdir=examples/remote-standby apply

variable "fs1_address" {
  type        = string
  description = "fs1's SSH address: \"NAME\", \"NAME:PORT\" or \"[IPv6]:PORT\"."
}

variable "fs2_address" {
  type        = string
  description = "fs2's SSH address."
}

variable "fs1_identity" {
  type        = string
  default     = "~/.ssh/id_ed25519"
  description = "The private key that logs in to fs1 (a path on this machine)."
}

variable "fs2_identity" {
  type    = string
  default = "~/.ssh/id_ed25519"
}

variable "fs1_root" {
  type        = string
  default     = "/"
  description = "The folder of fs1 that Drover's paths are below; \"/\" for the whole machine."
}

variable "fs2_root" {
  type    = string
  default = "/"
}

host "fs1" {
  address       = var.fs1_address
  identity_file = var.fs1_identity
  root          = var.fs1_root
}

host "fs2" {
  address       = var.fs2_address
  identity_file = var.fs2_identity
  root          = var.fs2_root
}

# fs1's data, mirrored to fs2:/replica/fs1/srv/data.
resource "replication_set" "data" {
  source {
    host = host.fs1
    path = "/srv/data"
  }
  target {
    host = host.fs2
    path = "/replica/fs1"
  }
  delete_orphans = true
  max_delete     = "50%"
}

# The standby's system drive and, on the same machine, a verified block
# copy of it to fall back to.
resource "drive" "standby_system" {
  host = host.fs2
  path = "/images/system.img"
  size = "16MiB"
}

resource "drive" "standby_backup" {
  host = host.fs2
  path = "/images/backup.img"
  size = "16MiB"
}

resource "drive_copy" "standby" {
  host   = host.fs2
  source = drive.standby_system.path
  target = drive.standby_backup.path
  verify = true
}

output "data_loss_window" {
  description = "When the oldest change not yet on fs2 was made (null when in sync)."
  value       = replication_set.data.oldest_pending
}
