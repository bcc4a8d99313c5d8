resource "value" "1x" {}

host "my host" {}

resource "value" {}
