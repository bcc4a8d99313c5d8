variable "site" {
  type    = string
  default = "paris"
}
locals { script = "/opt/dr/pre.sh" }
host "fs1" {}
host "fs2" {}
resource "registry_capture" "doubletake" {}
resource "boot_entry" "source_os" {}
resource "value" "os" {}

# Every argument right: no diagnostics from this runbook.
runbook "good" {
  rpo = "15m"
  rto = "1h30m"
  trigger {
    heartbeat = host.fs1
    interval  = "5s"
    missed    = 5
  }
  step "pre" {
    host    = host.fs2
    run     = [local.script, var.site]
    timeout = "5m"
  }
  step "registry" {
    after  = [step.pre]
    import = registry_capture.doubletake
    host   = host.fs2
  }
  step "boot" {
    after       = [step.registry]
    set_default = boot_entry.source_os
    reboot      = true
  }
  step "held" {
    after = [step.boot]
    resource "file" "marker" {
      host    = host.fs2
      path    = "/failed-over"
      content = "${var.site}\n"
    }
  }
  step "confirm" {
    after  = [step.held]
    prompt = "Can users reach ${file.marker.path}?"
  }
  step "settle" {
    after = [step.confirm]
    wait  = "30s"
  }
  step "verify" {
    after = [step.settle]
    check = file.marker.content != ""
  }
  drill {
    isolate = true
  }
}

runbook "bad" {
  rpo = "fifteen minutes"
  rto = "-5m"
  trigger {
    heartbeat = host.fs9
    interval  = 5
    missed    = 0.5
  }
  step "refs" {
    host = host.nope
    run  = [var.undefined, local.scirpt]
  }
  step "types" {
    host    = value.os
    run     = []
    timeout = "soon"
  }
  step "argv" {
    host = "fs2"
    run  = "/opt/dr/pre.sh --now"
  }
  step "imports" {
    import = boot_entry.source_os
  }
  step "boots" {
    set_default = boot_entry.nope
    reboot      = "yes"
  }
  step "boots_value" {
    set_default = "source_os"
  }
  step "fences" {
    stop = value.os
  }
  step "ask" {
    prompt = ""
  }
  step "waits" {
    wait = "a while"
  }
  step "checks" {
    check = "maybe"
  }
  step "run_args" {
    host        = host.fs2
    run         = ["/opt/dr/pre.sh"]
    env         = ["SITE=b"]
    dir         = ""
    retries     = -1
    retry_delay = "now"
    on_failure  = "ignore"
  }
  step "next" {
    set_next       = registry_capture.doubletake
    reboot         = true
    reboot_command = "reboot"
  }
  step "held" {
    resource "file" "m" {
      host    = host.fs3
      path    = value.nope.output
      content = "x"
    }
  }
  step "stepref" {
    prompt = "refs ended ${step.refs.status}; ${step.reffs.status}"
  }
  drill {
    isolate = "sometimes"
  }
}
