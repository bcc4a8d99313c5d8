host "fs" {
  root = "sim"
}

runbook "repeat" {
  step "shares" {
    for_each = toset(["a", "b"])
    host     = host.fs
    run      = ["test", "-d", "/srv/${each.key}"]
  }
  step "services" {
    count = 3
    host  = host.fs
    after = [step.shares]
    run   = ["start", "svc${count.index}"]
  }
  step "one" {
    after = [step.services[2], step.shares["a"]]
    check = step.services[2].status == "succeeded"
  }
  step "both" {
    count    = 2
    for_each = toset(["x"])
    wait     = "1s"
  }
  step "plain" {
    host = host.fs
    run  = ["echo", count.index, each.key]
  }
  step "wrong_keys" {
    after = [step.plain[0], step.services["a"], step.shares[1]]
    wait  = "1s"
  }
  step "self_count" {
    count = count.index
    wait  = "1s"
  }
  step "negative" {
    count = -1
    wait  = "1s"
  }
  step "held" {
    count = 2
    resource "network_identity" "x" {
      host = host.fs
    }
  }
  step "bad_ref" {
    after = [step.services]
    check = step.services["a"].status == "succeeded"
  }
  step "by_step" {
    after = [step.one]
    count = step.one.status == "succeeded" ? 1 : 0
    wait  = "1s"
  }
}
