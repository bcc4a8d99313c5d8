resource "value" "site" {
  for_each = { fs1 = "primary", fs2 = "standby" }
  input    = each.value
}
