# Every way a removed block can be wrong.
resource "value" "kept" {
  input = "x"
}

removed {
  from = value.kept
  lifecycle {
    destroy = false
  }
}

removed {
  from = value.gone[0]
}

removed {
  from = data.value.gone
}

removed {
  from = value.old
  lifecycle {
    destroy = "no"
  }
}

removed {
  from = value.old
}
