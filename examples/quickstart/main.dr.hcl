# Quickstart: two servers played by folders on this machine. fs1 is the
# production file server, fs2 its standby. Drover places the failover script
# and the replication settings on them and keeps track of what it placed.
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

# Identifies this protection pair; replacing it (triggers_replace) marks a
# new generation of the standby.
resource "value" "pair" {
  input = {
    source  = host.fs1.name
    standby = host.fs2.name
    ip      = var.service_ip
  }
}

resource "file" "pre_failover" {
  host    = host.fs2
  path    = "/opt/dr/pre-failover.sh"
  mode    = "0755"
  content = templatefile("${path.module}/pre-failover.sh.tftpl", {
    source = value.pair.output.source
    ip     = value.pair.output.ip
    shares = local.shares
  })
}

resource "file" "repset" {
  for_each = toset(local.shares)

  host    = host.fs1
  path    = "/etc/drover/repset-${each.key}.conf"
  content = "source=/srv/${each.key}\ntarget=${host.fs2.name}:/replica/${host.fs1.name}/${each.key}\n"
}

output "pre_failover_sha256" {
  value = file.pre_failover.sha256
}

output "replicated_shares" {
  value = [for f in file.repset : f.path]
}
