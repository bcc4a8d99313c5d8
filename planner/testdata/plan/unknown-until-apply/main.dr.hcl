resource "value" "a" {
  input = "x"
}

resource "value" "b" {
  input = value.a.id
}
