resource "value" "a" {
  input = "a"
}

resource "value" "b" {
  input = value.a.output
}
