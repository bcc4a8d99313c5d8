resorce "value" "x" {
  input = "a"
}

host "fs1" {
  adress = "fs1.example.net"
}

varible "region" {}

variable "zone" {
  tpye = string
}

resource "value" "y" {
  lifecycle {
    prevent_destory = true
  }
}

name = "top"

runbook "failover" {
  step "pre" {
    run = ["true"]
    timeot = "5m"
  }
  drils {
    isolate = true
  }
}
