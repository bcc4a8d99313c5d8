resource "value" "x" {
  input = "b"
}

variable "region" {
  type = string
}

host "fs1" { address = "b" }

output "o" { value = 2 }

locals {
  a = 2
}

runbook "r" {
  step "t" { run = ["true"] }
}

runbook "q" {
  step "u" {
    resource "value" "x" {}
  }
}
