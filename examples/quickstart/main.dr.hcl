# Quickstart: two servers played by folders on this machine. fs1 is the
# production file server, fs2 its standby. Drover mirrors fs1's shares to
# fs2, keeps a sector-by-sector backup of fs1's system drive (an image file
# here), and places the standby's pre-failover script.
#
#   go run ./cmd/drover --chdir=examples/quickstart plan
#   go run ./cmd/drover --chdir=examples/quickstart apply --auto-approve

host "fs1" {
  root = "sim/fs1"
}

host "fs2" {
  root = "sim/fs2"
}

variable "service_ip" {
  type        = string
  default     = "192.0.2.10/24"
  description = "The address users reach the file service at; the standby takes it over at failover."
}

locals {
  shares = ["data", "home"]
}

# What users keep in fs1's shares; here one file each.
resource "file" "share_readme" {
  for_each = toset(local.shares)

  host    = host.fs1
  path    = "/srv/${each.key}/README.txt"
  content = "The ${each.key} share of ${host.fs1.name}, mirrored to ${host.fs2.name}.\n"
}

# The shares mirrored to the standby: fs2:/replica/fs1/srv/data, .../home.
resource "replication_set" "shares" {
  dynamic "source" {
    for_each = local.shares
    content {
      host = host.fs1
      path = "/srv/${source.value}"
    }
  }
  target {
    host = host.fs2
    path = "/replica/fs1"
  }
  delete_orphans = true
  triggers       = [for f in file.share_readme : f.sha256]
}

# fs1's system drive and the backup drive kept a block-identical copy of it.
# A destroy forgets them and leaves the images and the manifest in
# sim/fs1/images (the plan says so); delete_on_destroy = true deletes them.
resource "drive" "system" {
  host = host.fs1
  path = "/images/system.img"
  size = "64MiB"
}

resource "drive" "backup" {
  host = host.fs1
  path = "/images/backup.img"
  size = "64MiB"
}

resource "drive_copy" "backup" {
  host   = host.fs1
  source = drive.system.path
  target = drive.backup.path
  verify = true
}

resource "file" "pre_failover" {
  host = host.fs2
  path = "/opt/dr/pre-failover.sh"
  mode = "0755"
  content = templatefile("${path.module}/pre-failover.sh.tftpl", {
    source = host.fs1.name
    ip     = var.service_ip
    shares = local.shares
  })
}

output "replica" {
  value = replication_set.shares.id
}

