resource "value" "x" {
  input = "a"
}

variable "region" {}

host "fs1" { address = "a" }

output "o" { value = 1 }

locals {
  a = 1
}

runbook "r" {
  step "s" { run = ["true"] }
  step "s" { run = ["false"] }
}
