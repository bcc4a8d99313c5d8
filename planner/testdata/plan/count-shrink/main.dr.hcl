resource "value" "n" {
  count = 1
  input = "n${count.index}"
}
