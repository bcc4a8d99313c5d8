# A data source that depends on a resource with changes is read during
# apply: what its configuration sets is known in the plan, and references
# see it; what the provider computes is not.
host "h" {
  root = "sim"
}

resource "file" "conf" {
  host    = host.h
  path    = "/etc/app.conf"
  content = "port = 80\n"
}

data "file" "read" {
  host       = host.h
  path       = file.conf.path
  depends_on = [file.conf]
}

resource "value" "path" {
  input = data.file.read.path
}
