variable "n" {
  type = number
}

variable "secret" {
  type      = string
  sensitive = true
}

resource "value" "negative" {
  count = var.n - 5
}

resource "value" "multi" {
	input = {
		a = var.secret
		b = upper(
			var.n
		)
	}
}
