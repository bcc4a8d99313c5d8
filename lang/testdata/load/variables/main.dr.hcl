variable "mismatch" {
  type    = number
  default = "five"
}

variable "strict" {
  type     = string
  nullable = false
  default  = null
}

variable "other" {
  type = string
  validation {
    condition     = var.other != var.mismatch
    error_message = "Must differ from ${local.x}."
  }
}

variable "constant" {
  validation {
    condition     = true
    error_message = "Never."
  }
}

variable "badtype" {
  type = lsit(string)
}

variable "incomplete" {
  validation {
    condition = var.incomplete != ""
  }
}
