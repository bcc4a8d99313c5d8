# destroy --target value.mid: mid and top, which depends on it, go; base,
# which mid depends on, and other stay.
resource "value" "base" {
  input = "base"
}

resource "value" "mid" {
  input = value.base.output
}

resource "value" "top" {
  input = value.mid.output
}

resource "value" "other" {
  input = "other"
}
