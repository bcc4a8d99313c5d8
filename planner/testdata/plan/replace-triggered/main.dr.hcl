# A change to value.source replaces value.copy, whose own configuration
# is unchanged; value.other, unrelated, stays.
resource "value" "source" {
  input = "v2"
}

resource "value" "copy" {
  input = "static"
  lifecycle {
    replace_triggered_by = [value.source]
  }
}

resource "value" "other" {
  input = "static"
}
