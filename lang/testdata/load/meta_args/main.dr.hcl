resource "value" "both" {
  count    = 2
  for_each = toset(["a"])
}

resource "value" "plain" {
  input = count.index
  other = each.key
}

resource "value" "counted" {
  count = 3
  input = count.index
  other = each.value
}

resource "value" "selfish" {
  count = count.index
}

resource "value" "quoted" {
  provider = "disk"
}

data "value" "d" {
  lifecycle {
    prevent_destroy = true
  }
}

resource "value" "ignore" {
  lifecycle {
    ignore_changes = [all]
  }
}

resource "value" "deps" {
  depends_on = [value.plain.input, var.x, value.counted[0]]
}

locals {
  l = count.index
}

output "o" {
  value = each.key
}

resource "value" "slow" {
  timeouts {
    create = "soon"
    delete = "-5m"
    read   = var.x
  }
  timeouts {}
}

data "value" "slowly" {
  timeouts {
    read   = "30s"
    create = "1m"
  }
}

resource "value" "triggered" {
  lifecycle {
    replace_triggered_by = [value.plain.input, value.counted[0]]
  }
}
