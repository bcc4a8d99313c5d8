resource "value" "kept" {
  input = "k"
}
