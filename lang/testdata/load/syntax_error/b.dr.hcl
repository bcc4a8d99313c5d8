resource "value" "y" {
  input = "fine"
}
