package disk

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

func randomFile(t *testing.T, p string, size int) []byte {
	t.Helper()
	b := make([]byte, size)
	rng := rand.New(rand.NewPCG(uint64(size), 9))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return b
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBadInputChangesNothing(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.img")
	randomFile(t, src, 2<<20)
	small := filepath.Join(dir, "small.img")
	randomFile(t, small, 1<<20)
	big := filepath.Join(dir, "big.img")
	randomFile(t, big, 3<<20)
	if err := os.Link(src, filepath.Join(dir, "hardlink.img")); err != nil {
		t.Fatal(err)
	}
	str := cty.StringVal
	tests := []struct {
		name  string
		attrs map[string]cty.Value
		want  string
	}{
		{"target smaller than source", map[string]cty.Value{"source": str(src), "target": str(small)}, "Target too small"},
		{"source is target", map[string]cty.Value{"source": str(src), "target": str(src)}, "Target is the source"},
		{"source is target by another name", map[string]cty.Value{"source": str(src), "target": str(filepath.Join(dir, "hardlink.img"))}, "Target is the source"},
		{"missing device", map[string]cty.Value{"source": str("/dev/drover-no-such-disk"), "target": str(big)}, "/dev/drover-no-such-disk does not exist"},
		{"missing target", map[string]cty.Value{"source": str(src), "target": str("/dev/drover-no-such-disk")}, "does not exist"},
		{"unknown partition", map[string]cty.Value{"source": str(src), "target": str(big), "partitions": cty.ListVal([]cty.Value{cty.NumberIntVal(3)})}, "has no partition 3: it has no partition table"},
		{"bad block size", map[string]cty.Value{"source": str(src), "target": str(big), "block_size": cty.NumberIntVal(1000)}, "multiple of 512"},
		{"bad verify", map[string]cty.Value{"source": str(src), "target": str(big), "verify": str("twice")}, "must be true, false"},
		{"bad snapshot", map[string]cty.Value{"source": str(src), "target": str(big), "snapshot": str("lvm")}, "must be one of"},
		{"snapshot that does not apply", map[string]cty.Value{"source": str(src), "target": str(big), "snapshot": str("fsfreeze")}, "needs file systems of the source mounted"},
		{"bad quiesce", map[string]cty.Value{"source": str(src), "target": str(big), "quiesce": str("soon")}, "positive duration"},
	}
	p := provider(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := map[string][]byte{}
			for _, f := range []string{src, small, big} {
				before[f] = read(t, f)
			}
			_, _, diags := planApply(t, p, cty.NilVal, copyValue(tt.attrs))
			if !diags.HasErrors() || !strings.Contains(render(diags), tt.want) {
				t.Fatalf("diagnostics %q, want an error with %q", render(diags), tt.want)
			}
			for f, b := range before {
				if !bytes.Equal(read(t, f), b) {
					t.Errorf("%s changed", f)
				}
			}
			m, _ := filepath.Glob(filepath.Join(dir, "*.blocks"))
			if len(m) > 0 {
				t.Errorf("a refused copy left manifests %v", m)
			}
		})
	}
}

func TestMountedTargetIsRefused(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.img")
	randomFile(t, src, 16<<20)
	target := partitioned(t, dir, "dpsr.img", 32, []string{","}, nil, nil)
	dev := loop(t, target)
	run(t, "mkfs.ext4", "-q", dev+"p1")
	mount(t, dev+"p1")
	before := read(t, target)
	for _, tgt := range []string{target, dev} {
		_, _, diags := planApply(t, provider(t), cty.NilVal, copyValue(map[string]cty.Value{"source": cty.StringVal(src), "target": cty.StringVal(tgt),
			"manifest": cty.StringVal(filepath.Join(dir, "dpsr.blocks"))}))
		if !strings.Contains(render(diags), "Target in use") || !strings.Contains(render(diags), "mounted") {
			t.Errorf("copy to mounted %s: %s", tgt, render(diags))
		}
	}
	if !bytes.Equal(read(t, target), before) {
		t.Error("the mounted target changed")
	}
}

func TestDeviceTargetStaysHidden(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.img")
	data := randomFile(t, src, 8<<20)
	dev := loop(t, image(t, dir, "dpsr.img", 8<<20))
	t.Cleanup(func() { exec.Command("blockdev", "--setrw", dev).Run() })
	config := copyValue(map[string]cty.Value{"source": cty.StringVal(src), "target": cty.StringVal(dev),
		"manifest": cty.StringVal(filepath.Join(dir, "dpsr.blocks")), "verify": cty.StringVal("full")})
	p := provider(t)
	state, desc := mustApply(t, p, cty.NilVal, config)
	if !strings.Contains(desc, "full copy of 8 MiB") {
		t.Errorf("first plan: %q", desc)
	}
	if got := run(t, "blockdev", "--getro", dev); got != "1" {
		t.Errorf("the device target is not read-only between copies: getro %s", got)
	}
	if !bytes.Equal(read(t, dev), data) {
		t.Fatal("the device does not hold the source")
	}

	f, _ := os.OpenFile(src, os.O_RDWR, 0)
	f.WriteAt(bytes.Repeat([]byte{7}, 100), 5<<20)
	f.Close()
	again, desc := mustApply(t, p, state, config)
	if !strings.Contains(desc, "64 KiB in 1 block changed since the last copy") || !strings.Contains(desc, "full refresh") {
		t.Errorf("incremental plan: %q", desc)
	}
	if g, _ := again.GetAttr("generation").AsBigFloat().Int64(); g != 2 {
		t.Errorf("generation %d after the second copy", g)
	}
	if !bytes.Equal(read(t, dev), read(t, src)) {
		t.Fatal("the device does not hold the changed source")
	}
	if _, desc, _ := planApply(t, p, again, config); desc != "" {
		t.Errorf("a plan with nothing changed says %q", desc)
	}
	quick := copyValue(map[string]cty.Value{"source": cty.StringVal(src), "target": cty.StringVal(dev),
		"manifest": cty.StringVal(filepath.Join(dir, "dpsr.blocks")), "verify": cty.StringVal("full"), "refresh": cty.StringVal("quick")})
	state, _ = mustApply(t, p, again, quick)
	os.Chtimes(src, time.Now(), time.Now().Add(time.Minute))
	if _, desc, _ := planApply(t, p, state, quick); !strings.Contains(desc, "quick refresh") {
		t.Errorf("quick plan after a write: %q", desc)
	}
}
