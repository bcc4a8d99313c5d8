resource "value" "x" {
  input = 
}
