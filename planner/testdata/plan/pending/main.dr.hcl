# An apply was killed after recording these objects as pending (prior.json):
# each is read back. Found, it is planned like any object (same: no change;
# differs: updated); not found, it is created (missing), as is a state-only
# object, which has nothing to read back (value.v).
host "h" {
  root = "testdata/plan/pending/sim"
}

resource "file" "same" {
  host    = host.h
  path    = "/etc/same"
  content = "same\n"
}

resource "file" "differs" {
  host    = host.h
  path    = "/etc/differs"
  content = "new\n"
}

resource "file" "missing" {
  host    = host.h
  path    = "/etc/missing"
  content = "missing\n"
}

resource "value" "v" {
  input = "v"
}
