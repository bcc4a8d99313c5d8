# destroy --target value.a[1]: a[1] goes, and b, which depends on
# value.a; a[0] stays.
resource "value" "a" {
  count = 2
  input = "a${count.index}"
}

resource "value" "b" {
  input = value.a[0].output
}
