drover {
  required_providers {
    hello = {
      source  = "example.com/acme/hello"
      version = "~> 1.0"
    }
  }
}

resource "hello_greeting" "ops" {
  dir  = "out"
  name = "operations team"
}

output "greeting" {
  value = hello_greeting.ops.text
}
