# --target value.a[1]: only that instance changes; a[0] keeps its state
# though its input changed, and a[2] is not created.
resource "value" "a" {
  count = 3
  input = "new${count.index}"
}
