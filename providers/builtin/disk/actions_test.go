package disk

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drover-dr/drover/providers"
	"github.com/zclconf/go-cty/cty"
)

func invoke(t *testing.T, p providers.Provider, action string, state cty.Value, extra map[string]cty.Value) (cty.Value, providers.Diagnostics) {
	t.Helper()
	args := map[string]cty.Value{}
	for name, a := range New().Actions[action].Schema.Args.Attributes {
		args[name] = cty.NullVal(a.Type)
	}
	for _, name := range []string{"host", "source", "target", "manifest"} {
		args[name] = state.GetAttr(name)
	}
	for k, v := range extra {
		args[k] = v
	}
	resp := p.Invoke(context.Background(), providers.InvokeRequest{Action: action, Args: cty.ObjectVal(args), Progress: func(providers.Progress) {}})
	return resp.Result, resp.Diagnostics
}

// TestDiffAndRestoreOnRealFileSystems copies a drive with ext4, btrfs and
// xfs partitions, changes files on the source, and checks diff and
// restore, and that nothing stays mounted or attached.
func TestDiffAndRestoreOnRealFileSystems(t *testing.T) {
	dir := t.TempDir()
	src := partitioned(t, dir, "system.img", 620, []string{",64M", ",200M", ","},
		[]string{"mkfs.ext4 -q", "mkfs.btrfs -q", "mkfs.xfs -q"}, func(i int, mnt string) {
			os.MkdirAll(filepath.Join(mnt, "etc"), 0o755)
			os.WriteFile(filepath.Join(mnt, "etc", "hosts"), []byte("127.0.0.1 fs1\n"), 0o644)
			os.WriteFile(filepath.Join(mnt, "report.txt"), []byte("quarterly figures\n"), 0o600)
			os.WriteFile(filepath.Join(mnt, "same.txt"), []byte("unchanged\n"), 0o644)
		})
	target := image(t, dir, "dpsr.img", 620<<20)
	p := provider(t)
	state, _ := mustApply(t, p, cty.NilVal, copyValue(map[string]cty.Value{"source": cty.StringVal(src), "target": cty.StringVal(target)}))

	// The source lives on: a file changes, one is deleted, one is new.
	withLoop(t, src, func(dev string) {
		for i := 1; i <= 3; i++ {
			mnt := t.TempDir()
			run(t, "mount", dev+"p"+string(rune('0'+i)), mnt)
			os.WriteFile(filepath.Join(mnt, "etc", "hosts"), []byte("127.0.0.1 fs2\n"), 0o644)
			os.Remove(filepath.Join(mnt, "report.txt"))
			os.WriteFile(filepath.Join(mnt, "new.txt"), []byte("new\n"), 0o644)
			run(t, "umount", mnt)
		}
	})

	res, diags := invoke(t, p, "drive_diff", state, nil)
	if diags.HasErrors() {
		t.Fatal(render(diags))
	}
	var got []string
	for _, c := range res.AsValueSlice() {
		n, _ := c.GetAttr("partition").AsBigFloat().Int64()
		got = append(got, string(rune('0'+n))+" "+c.GetAttr("change").AsString()+" "+c.GetAttr("path").AsString())
	}
	var want []string
	for _, n := range []string{"1", "2", "3"} {
		want = append(want, n+" ≠ /etc/hosts", n+" + /new.txt", n+" - /report.txt")
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	res, diags = invoke(t, p, "drive_diff", state, map[string]cty.Value{"partition": cty.NumberIntVal(2), "path": cty.StringVal("/etc")})
	if diags.HasErrors() || res.LengthInt() != 1 {
		t.Errorf("diff of /etc on partition 2: %#v %s", res, render(diags))
	}

	// A deleted file comes back from each file system.
	for n := 1; n <= 3; n++ {
		to := filepath.Join(dir, "restored", string(rune('0'+n)))
		_, diags := invoke(t, p, "drive_restore", state, map[string]cty.Value{"partition": cty.NumberIntVal(int64(n)),
			"path": cty.StringVal("/report.txt"), "to": cty.StringVal(to)})
		if diags.HasErrors() {
			t.Fatal(render(diags))
		}
		fi, err := os.Stat(to)
		if err != nil || string(read(t, to)) != "quarterly figures\n" || fi.Mode().Perm() != 0o600 {
			t.Errorf("restored report of partition %d: %v, mode %v", n, err, fi)
		}
	}

	// A whole partition, to a new file.
	part := filepath.Join(dir, "p1.img")
	res, diags = invoke(t, p, "drive_restore", state, map[string]cty.Value{"partition": cty.NumberIntVal(1), "to": cty.StringVal(part)})
	if diags.HasErrors() || !strings.Contains(res.GetAttr("restored").AsString(), "partition 1 (64 MiB)") {
		t.Fatalf("partition restore: %#v %s", res, render(diags))
	}
	if string(read(t, part)) != string(read(t, target)[1<<20:65<<20]) {
		t.Error("the restored partition differs from the copy's")
	}

	// Restoring over a mounted partition of the source is refused.
	withLoop(t, src, func(dev string) {
		mount(t, dev+"p1")
		_, diags := invoke(t, provider(t), "drive_restore", state, map[string]cty.Value{"partition": cty.NumberIntVal(1)})
		if !strings.Contains(render(diags), "is mounted on") {
			t.Errorf("restore over a mounted partition: %s", render(diags))
		}
		run(t, "umount", dev+"p1")
	})

	// Unknown partitions are errors.
	if _, diags := invoke(t, p, "drive_diff", state, map[string]cty.Value{"partition": cty.NumberIntVal(7)}); !strings.Contains(render(diags), "no partition 7") {
		t.Errorf("diff of an unknown partition: %s", render(diags))
	}
	if a := attached(t, src) + attached(t, target); a != "" {
		t.Errorf("loop devices left attached: %s", a)
	}
	if m, _ := filepath.Glob("/run/drover/mnt/*"); len(m) > 0 {
		for _, d := range m {
			if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), d) {
				t.Errorf("left mounted: %s", d)
			}
		}
	}
}

// TestInterruptedCopyRolledBackForRestore: a copy whose last update was
// interrupted is rolled back to its last complete copy before a restore
// reads it, with a warning, rather than refused until an apply (which
// needs the source) rolls it back.
func TestInterruptedCopyRolledBackForRestore(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.img")
	randomFile(t, src, 1<<20)
	target := image(t, dir, "dpsr.img", 1<<20)
	p := provider(t)
	state, _ := mustApply(t, p, cty.NilVal, copyValue(map[string]cty.Value{"source": cty.StringVal(src), "target": cty.StringVal(target)}))
	os.WriteFile(target+".journal", []byte("DROVER-JOURNAL 1\n"), 0o600)
	_, diags := invoke(t, p, "drive_restore", state, map[string]cty.Value{"partition": cty.NumberIntVal(1), "to": cty.StringVal(filepath.Join(dir, "x"))})
	// The image has no partition table: the restore goes as far as that.
	if r := render(diags); !strings.Contains(r, "Interrupted copy rolled back") || strings.Contains(r, "Backup not usable") || !strings.Contains(r, "has no partition 1") {
		t.Errorf("restore from an interrupted copy: %s", r)
	}
	if _, err := os.Stat(target + ".journal"); err == nil {
		t.Error("the journal of the interrupted copy is left")
	}
}
