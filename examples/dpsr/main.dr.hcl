# DPSR: a dedicated backup drive kept a sector-by-sector copy of the system
# drive. Here both drives are image files on a server played by a folder
# (sim/fs1); on a real server they would be "/dev/sda" and "/dev/sdb".
#
#   truncate -s 64M examples/dpsr/sim/fs1/srv/system.img   # the "system drive"
#   go run ./cmd/drover --chdir=examples/dpsr plan
#   go run ./cmd/drover --chdir=examples/dpsr apply --auto-approve
#
# Write into sim/fs1/srv/system.img and plan again: the plan says how much
# changed since the last copy, and apply copies only that.

host "fs1" {
  root = "sim/fs1"
}

# The backup drive: created sparse, as large as the system drive.
resource "drive" "dpsr" {
  host = host.fs1
  path = "/srv/dpsr.img"
  size = "64MiB"
}

resource "drive_copy" "dpsr" {
  host    = host.fs1
  source  = "/srv/system.img"
  target  = drive.dpsr.path
  verify  = true # read back what was written
  quiesce = "1s" # wait for a second without writes first
}

output "last_copy" {
  value = "generation ${drive_copy.dpsr.generation} at ${drive_copy.dpsr.last_copy_at}"
}
