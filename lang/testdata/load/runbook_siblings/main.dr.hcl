host "fs" {
  root = "sim"
}

variable "first" {
  type    = number
  default = 0
}

runbook "siblings" {
  # Each instance after the one before: a chain, not a cycle.
  step "chain" {
    count = 3
    host  = host.fs
    after = count.index > 0 ? [step.chain[count.index - 1]] : []
    run   = ["start", "svc${count.index}"]
  }
  # Computed entries mixed with plain ones.
  step "fan" {
    count = 3
    host  = host.fs
    after = [step.chain, step.fan[var.first]]
    run   = ["fan", "${count.index}"]
  }
  step "by_key" {
    for_each = toset(["a", "b"])
    after    = each.key == "b" ? [step.by_key["a"]] : []
    wait     = "1s"
  }
  # Two steps whose instances wait for one instance of the other each: a
  # cycle between the steps, not between their instances.
  step "left" {
    count = 2
    after = count.index == 1 ? [step.right[0]] : []
    wait  = "1s"
  }
  step "right" {
    count = 2
    after = [step.left[0]]
    wait  = "1s"
  }
  # What is still refused when the configuration is loaded.
  step "not_counted" {
    after = [step.chain[count.index]]
    wait  = "1s"
  }
  step "no_step" {
    after = [var.first, step.chain]
    wait  = "1s"
  }
  step "no_list" {
    after = var.first > 0 ? ["chain"] : []
    wait  = "1s"
  }
  step "undeclared" {
    count = 2
    after = [step.chian[count.index]]
    wait  = "1s"
  }
}
