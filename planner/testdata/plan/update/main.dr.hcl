resource "value" "a" {
  input = "new"
}
