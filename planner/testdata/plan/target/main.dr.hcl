resource "value" "base" {
  input = "b"
}

resource "value" "wanted" {
  input = value.base.output
}

resource "value" "other" {
  input = "o"
}
