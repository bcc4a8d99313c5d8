resource "value" "a" {
  input            = "same"
  triggers_replace = 2
}
