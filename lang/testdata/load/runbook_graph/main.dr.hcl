runbook "loop" {
  step "a" {
    after = [step.c]
    run   = ["a"]
  }
  step "b" {
    after = [step.a]
    run   = ["b"]
  }
  step "c" {
    after = [step.b]
    run   = ["c"]
  }
  step "self" {
    after = [step.self]
    run   = ["s"]
  }
  step "d" {
    after = [step.prepar, step.a]
    run   = ["d"]
  }
  step "e" {
    after = ["step", value.x]
    run   = ["e"]
  }
}
