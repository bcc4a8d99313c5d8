package disk

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

var localHost = host.Config{Name: "fs1"}.Value()

// copyConfig builds a drive_copy configuration on this machine.
func copyValue(attrs map[string]cty.Value) cty.Value {
	full := map[string]cty.Value{}
	for name, a := range copySchema.Block.Attributes {
		full[name] = cty.NullVal(a.Type)
	}
	full["host"] = localHost
	for k, v := range attrs {
		full[k] = v
	}
	return cty.ObjectVal(full)
}

// provider is the disk provider in process.
func provider(t *testing.T) providers.Provider {
	p := sdk.New(New())
	t.Cleanup(func() { p.Close() })
	return p
}

// planApply plans config against prior and applies it; it returns the new
// state, the plan's description and the diagnostics of whichever failed.
func planApply(t *testing.T, p providers.Provider, prior, config cty.Value) (cty.Value, string, providers.Diagnostics) {
	t.Helper()
	ctx := context.Background()
	if prior == cty.NilVal {
		prior = cty.NullVal(config.Type())
	}
	plan := p.Plan(ctx, providers.PlanRequest{TypeName: "drive_copy", Prior: prior, Config: config})
	if plan.Diagnostics.HasErrors() {
		return prior, plan.Description, plan.Diagnostics
	}
	if !prior.IsNull() && plan.Planned.RawEquals(prior) {
		return prior, plan.Description, nil
	}
	resp := p.Apply(ctx, providers.ApplyRequest{TypeName: "drive_copy", Prior: prior, Planned: plan.Planned, Config: config})
	return resp.New, plan.Description, resp.Diagnostics
}

func mustApply(t *testing.T, p providers.Provider, prior, config cty.Value) (cty.Value, string) {
	t.Helper()
	v, desc, diags := planApply(t, p, prior, config)
	if diags.HasErrors() {
		t.Fatalf("plan/apply: %s", render(diags))
	}
	return v, desc
}

func render(diags providers.Diagnostics) string {
	var parts []string
	for _, d := range diags {
		parts = append(parts, d.Summary+": "+d.Detail)
	}
	return strings.Join(parts, "; ")
}

func run(t *testing.T, argv ...string) string {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// image makes a sparse image file of size bytes.
func image(t *testing.T, dir, name string, size int64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return p
}

// loop attaches path to a loop device (with its partitions) for the test.
func loop(t *testing.T, path string) string {
	t.Helper()
	testenv.Root(t)
	testenv.Command(t, "losetup", "mount")
	testenv.Command(t, "partx", "util-linux")
	dev := run(t, "losetup", "--find", "--show", path)
	exec.Command("partx", "--add", dev).Run()
	t.Cleanup(func() {
		exec.Command("partx", "--delete", dev).Run()
		exec.Command("losetup", "--detach", dev).Run()
	})
	return dev
}

// mount mounts dev at a new folder for the test.
func mount(t *testing.T, dev string, opts ...string) string {
	t.Helper()
	dir := t.TempDir()
	run(t, append(append([]string{"mount"}, opts...), dev, dir)...)
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// debianPackage names the package of a mkfs command.
func debianPackage(cmd string) string {
	switch cmd {
	case "mkfs.btrfs":
		return "btrfs-progs"
	case "mkfs.xfs":
		return "xfsprogs"
	}
	return "e2fsprogs"
}

// partitioned makes an image of size MiB with a GPT of the given
// partitions (sfdisk lines such as ",100M") and file systems made by the
// given mkfs commands (one per partition, "" for none); fill, when set,
// writes files into partition i mounted at dir. The image is left
// detached.
func partitioned(t *testing.T, dir, name string, sizeMiB int64, parts, mkfs []string, fill func(i int, dir string)) string {
	t.Helper()
	testenv.Command(t, "sfdisk", "fdisk")
	p := image(t, dir, name, sizeMiB<<20)
	cmd := exec.Command("sfdisk", "--quiet", p)
	cmd.Stdin = strings.NewReader("label: gpt\n" + strings.Join(parts, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	if len(mkfs) > 0 {
		withLoop(t, p, func(dev string) {
			for i, m := range mkfs {
				if m == "" {
					continue
				}
				f := strings.Fields(m)
				testenv.Command(t, f[0], debianPackage(f[0]))
				part := fmt.Sprintf("%sp%d", dev, i+1)
				run(t, append(f, part)...)
				if fill != nil {
					mnt := t.TempDir()
					run(t, "mount", part, mnt)
					fill(i, mnt)
					run(t, "umount", mnt)
				}
			}
		})
	}
	return p
}

// withLoop attaches path with its partitions for the time of f.
func withLoop(t *testing.T, path string, f func(dev string)) {
	t.Helper()
	testenv.Root(t)
	testenv.Command(t, "losetup", "mount")
	testenv.Command(t, "partx", "util-linux")
	dev := run(t, "losetup", "--find", "--show", path)
	defer func() {
		exec.Command("partx", "--delete", dev).Run()
		exec.Command("losetup", "--detach", dev).Run()
	}()
	run(t, "partx", "--add", dev)
	f(dev)
}

// attached lists the loop devices backed by path.
func attached(t *testing.T, path string) string {
	out, _ := exec.Command("losetup", "--associated", path).CombinedOutput()
	return strings.TrimSpace(string(out))
}
