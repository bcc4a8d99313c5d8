runbook "actions" {
  step "nothing" {
    host = host.fs2
  }
  step "two" {
    run    = ["x"]
    prompt = "Sure?"
  }
  step "boot" {
    set_default = value.os
    reboot      = true
  }
  step "reboot_alone" {
    reboot = true
  }
  step "mixed" {
    wait = "5m"
    resource "value" "v" {}
  }
  step "held" {
    resource "value" "w" {}
    resource "value" "w" {}
  }
}
