variable "region" {
  type = string
}

variable "replicas" {
  type    = number
  default = 1
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "password" {
  type      = string
  default   = "changeme"
  sensitive = true
}

variable "zone" {
  type    = string
  default = "a"
  validation {
    condition     = contains(["a", "b"], var.zone)
    error_message = "The zone must be a or b, not ${var.zone}."
  }
}

variable "settings" {
  type = object({
    size = number
    name = optional(string, "disk")
  })
  default = { size = 1 }
}

variable "anything" {
  default = null
}

variable "strict" {
  type     = string
  nullable = false
  default  = "fallback"
}
