runbook "failover" {
  rpo = "15m"
  rto = "10m"

  trigger {
    heartbeat = host.fs1
    interval  = "5s"
    missed    = 5
  }

  step "pre" {
    host    = host.fs2
    run     = ["/opt/dr/pre-failover.sh"]
    timeout = "5m"
  }

  step "registry" {
    after  = [step.pre]
    import = registry_capture.doubletake
    host   = host.fs2
  }

  step "identity" {
    after = [step.registry]
    resource "network_identity" "fs1" {
      host      = host.fs2
      name      = "fs1"
      addresses = ["192.0.2.10/24"]
      shares    = ["data"]
    }
  }

  step "boot" {
    after       = [step.registry]
    set_default = boot_entry.source_os
    reboot      = true
  }

  step "confirm" {
    after  = [step.identity]
    prompt = "Can users reach FS1 on FS2?"
  }

  drill {
    isolate = true
  }
}
