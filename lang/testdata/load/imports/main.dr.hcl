# Every way an import block can be wrong.
variable "root" {
  default = "sim"
}

locals {
  path = "/etc/motd"
}

resource "file" "motd" {
  host    = { name = "fs1" }
  path    = "/etc/motd"
  content = "x"
}

import {
  to = file.nowhere
  id = "fs1:/etc/motd"
}

import {
  to = data.file.motd
  id = "fs1:/etc/motd"
}

import {
  to = "file.motd"
  id = "fs1:/etc/motd"
}

import {
  to = file.motd
  id = "fs1:${local.path}"
}

import {
  to = file.motd
  id = "fs1:/etc/motd${var.root}"
}

import {
  to = file.motd
  id = "fs1:/etc/motd"
}
