# Every way a moved block can be wrong.
resource "value" "new" {
  input = "x"
}

resource "value" "kept" {
  input = "y"
}

moved {
  from = value.old
  to   = value.nowhere
}

moved {
  from = value.kept
  to   = value.new
}

moved {
  from = data.value.old
  to   = data.value.new
}

moved {
  from = value.old
  to   = file.new
}

moved {
  from = "value.old"
  to   = value.new
}

moved {
  from = value.new
  to   = value.new
}

moved {
  from = value.old[0]
  to   = value.new
}

moved {
  from = value.old[0]
  to   = value.new
}

moved {
  from = value.gone
  to   = value.new
}
