//go:build linux

package efiboot

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
)

// TestSetIgnoresPlantedSymlink: a symlink that another user planted at the
// name of a variable to be created (BootNext) leads to a root-only file;
// setting the variable must not write through it, on a host rooted at a
// folder (a link that stays inside the root) or not.
func TestSetIgnoresPlantedSymlink(t *testing.T) {
	testenv.Root(t)
	const nobody = 65534
	for _, rooted := range []bool{false, true} {
		t.Run(map[bool]string{false: "unrooted", true: "rooted"}[rooted], func(t *testing.T) {
			root := t.TempDir()
			// The test's folders are private: nobody must reach efivars.
			for _, d := range []string{filepath.Dir(root), root} {
				if err := os.Chmod(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			layout(t, root)
			dir := filepath.Join(root, "sys/firmware/efi/efivars")
			for d := dir; d != root; d = filepath.Dir(d) {
				if err := os.Chmod(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chown(dir, nobody, nobody); err != nil {
				t.Fatal(err)
			}
			victim := filepath.Join(root, "secret")
			if err := os.WriteFile(victim, []byte("root only"), 0o600); err != nil {
				t.Fatal(err)
			}
			plant := exec.Command("ln", "-s", "../../../../secret", filepath.Join(dir, "BootNext-"+globalGUID))
			plant.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
			if out, err := plant.CombinedOutput(); err != nil {
				t.Fatalf("as nobody, ln -s: %v: %s", err, out)
			}

			h, vars := host.NewLocal("fs2", ""), HostVars{Dir: dir}
			if rooted {
				h, vars.Dir = host.NewLocal("fs2", root), DefaultDir
			}
			defer h.Close()
			vars.Host = h
			if err := SetNext(Context(t.Context(), vars), 2); err == nil || !strings.Contains(err.Error(), "is a symlink, which an EFI variable never is") {
				t.Errorf("BootNext set through a symlink: %v", err)
			}
			if b, err := os.ReadFile(victim); err != nil || string(b) != "root only" {
				t.Errorf("the victim holds %q (%v)", b, err)
			}
			if fi, err := os.Lstat(victim); err != nil || fi.Mode() != 0o600 {
				t.Errorf("the victim's mode is %v (%v), want 0600", fi.Mode(), err)
			}
		})
	}
}
