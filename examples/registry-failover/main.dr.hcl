# Registry capture for failover: the product's settings on fs1 are captured into
# the replication set, which carries them to the standby fs2; at failover the
# pre-failover step imports them into fs2's registry before any service starts.
#
# Both servers are played by folders (sim/fs1, sim/fs2) and their registries by
# hive files; see README.md for the whole run.

host "fs1" { root = "sim/fs1" }
host "fs2" { root = "sim/fs2" }

locals {
  software = "/Windows/System32/config/SOFTWARE"
  prefix   = "HKEY_LOCAL_MACHINE\\SOFTWARE"
}

# Only the values that differ from a fresh install's defaults are kept: the
# same trimmed file tunes a new install.
resource "registry_capture" "product" {
  host     = host.fs1
  hive     = local.software
  prefix   = local.prefix
  key      = "\\Vendor\\Product"
  file     = "/srv/repset/product.reg"
  baseline = "/srv/defaults/product.reg"
}

# The replication set carries /srv/repset, capture included, to the standby:
# fs2:/replica/fs1/srv/repset/product.reg.
resource "replication_set" "repset" {
  source {
    host = host.fs1
    path = "/srv/repset"
  }
  target {
    host = host.fs2
    path = "/replica/fs1"
  }
  delete_orphans = true

  # The capture is written before the set is mirrored, and a new capture is
  # mirrored in the same apply.
  triggers = registry_capture.product.sha256
}

output "capture" {
  value = "${registry_capture.product.values} values in ${registry_capture.product.keys} keys, sha256 ${registry_capture.product.sha256}"
}

# Failover: fs2 takes over. The pre-failover script stops what must not run
# during the switch, the capture that arrived on fs2 is imported into fs2's
# registry (its undo file kept under /var/lib/drover/runbooks), and the
# post-failover script starts the product. `drover failback` imports the
# undo file again, putting back every value the import overwrote.
runbook "failover" {
  step "pre" {
    host    = host.fs2
    run     = ["/opt/dr/pre-failover.sh", "--site", "fs1"]
    timeout = "1m"
  }

  step "registry" {
    after  = [step.pre]
    host   = host.fs2
    import = registry_capture.product
  }

  step "post" {
    after   = [step.registry]
    host    = host.fs2
    run     = ["/opt/dr/post-failover.sh"]
    timeout = "1m"
  }
}
