variable "site" {
  type    = string
  default = "primary"
}

locals {
  greeting = "hello from ${var.site}"
}

resource "value" "a" {
  input = local.greeting
}

resource "value" "b" {
  input = { from = value.a.output, n = 2 }
}

output "b" {
  value = value.b.output
}
