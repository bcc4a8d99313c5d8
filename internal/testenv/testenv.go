package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true), where every
// component must be present.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing ends the test because a component it needs is absent: a failure
// in CI, a skip elsewhere. how says how to get it, e.g. "install Debian's
// qemu-system-x86".
func Missing(t testing.TB, what, how string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is missing under CI=true: %s (.ci/run should have)", what, how)
	}
	t.Skipf("%s is missing: %s", what, how)
}

// Command returns the path of the named command, or ends the test as
// Missing, naming the Debian package that provides it.
func Command(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "the command "+name, "install Debian's "+debianPackage)
	}
	return p
}

// Root ends the test as Missing unless it runs as root (loop devices,
// network namespaces, mounts).
func Root(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "root", "run the tests as root")
	}
}
