drover {
  required_providers {
    hello = {
      source  = "example.com/acme/hello"
      version = "~> 1.0"
    }
  }
}

variable "word" {
  type    = string
  default = "Hello"
}

provider "hello" {
  greeting = var.word
}

resource "hello_greeting" "ops" {
  dir  = "out"
  name = "operations team"
}

output "greeting" {
  value = hello_greeting.ops.text
}
