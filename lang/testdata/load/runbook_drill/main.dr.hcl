# The drill block: overrides, drill-only steps, cleanup hooks, max_age and
# reboot, each checked like the runbook's own arguments.

host "fs2" {}

runbook "failover" {
  step "pre" {
    host = host.fs2
    run  = ["/opt/dr/pre.sh"]
  }

  drill {
    max_age = "30d"
    reboot  = true

    override "step.pre" {
      run = ["/opt/dr/pre.sh", "--drill"]
    }

    step "app" {
      after = [step.pre]
      host  = host.fs2
      run   = ["/opt/dr/check-app.sh"]
    }

    cleanup {
      run = ["/opt/dr/after-drill.sh"]
    }
  }
}

runbook "bad" {
  step "pre" {
    host = host.fs2
    run  = ["/opt/dr/pre.sh"]
  }

  drill {
    max_age = "soon"
    reboot  = "maybe"

    override "pre" {
      run = ["x"]
    }

    override "step.missing" {
      run = ["x"]
    }

    override "step.pre" {
      wait   = "1s"
      dir    = ""
      server = "127.0.0.1:53"
    }

    step "pre" {
      wait = "1s"
    }

    step "loop1" {
      after = [step.loop2]
      wait  = "1s"
    }

    step "loop2" {
      after = [step.loop1, step.nothere]
      wait  = "1s"
    }

    cleanup {
      host = "fs2"
      run  = "/opt/dr/after.sh"
    }

    cleanup {}
  }
}

runbook "cycle" {
  step "pre" {
    wait = "1s"
  }

  drill {
    step "loop1" {
      after = [step.loop2, step.pre]
      wait  = "1s"
    }

    step "loop2" {
      after = [step.loop1, step.nothere]
      wait  = "1s"
    }
  }
}
