# Replication: fs1's file share and its DR settings mirrored to the standby
# fs2, both played by folders on this machine (sim/fs1, sim/fs2).
#
#   go run ./cmd/drover --chdir=examples/replication plan      # the itemised dry run
#   go run ./cmd/drover --chdir=examples/replication apply --auto-approve
#   go run ./cmd/drover --chdir=examples/replication verify replication_set.fs1
#   go run ./cmd/drover --chdir=examples/replication replicate replication_set.fs1   # Ctrl-C stops
#
# Edit a file under sim/fs1/srv/repset while replicate runs: it appears under
# sim/fs2/replica/fs1/srv/repset within about a second.

host "fs1" {
  root = "sim/fs1"
}

host "fs2" {
  root = "sim/fs2"
}

# A registry capture lands inside the set and travels with it.
resource "file" "capture" {
  host    = host.fs1
  path    = "/srv/repset/product.reg"
  content = "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\Software\\Vendor\\Product]\n\"Mode\"=\"standby\"\n"
}

resource "replication_set" "fs1" {
  # Each source folder lands below the target at its own path:
  # fs2:/replica/fs1/srv/repset and fs2:/replica/fs1/etc/dr.
  source {
    host = host.fs1
    path = "/srv/repset"
  }
  source {
    host = host.fs1
    path = "/etc/dr"
  }
  target {
    host = host.fs2
    path = "/replica/fs1"
  }
  exclude        = ["*.tmp", "~$*", "cache/"]
  delete_orphans = true
  bandwidth      = "200MiB/s"

  # A mirror that would delete more than this share of a replica at once,
  # or whose source folder was replaced since the last mirror (an empty
  # mount point), is refused; `apply --allow-mass-delete` lets it through.
  max_delete = "50%"

  # The capture is written before the set is mirrored.
  depends_on = [file.capture]
}

output "data_loss_window" {
  description = "When the oldest change not yet on fs2 was made (null when in sync)."
  value       = replication_set.fs1.oldest_pending
}
