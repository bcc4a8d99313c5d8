package drives

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
)

// FuzzReadTable reads arbitrary bytes as a drive image's partition table
// (GPT or MBR), as Probe does with every drive it is given: every
// partition it reports starts inside the addressable range, has a size,
// and a number of its own.
func FuzzReadTable(f *testing.F) {
	sfdisk := testenv.Command(f, "sfdisk", "fdisk")
	dir := f.TempDir()
	for _, label := range []string{"gpt", "dos"} {
		img := filepath.Join(dir, label+".img")
		if err := os.WriteFile(img, make([]byte, 128*512), 0o644); err != nil {
			f.Fatal(err)
		}
		cmd := exec.Command(sfdisk, "--quiet", img)
		cmd.Stdin = strings.NewReader("label: " + label + "\nstart=40, size=30\nstart=70, size=20\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			f.Fatalf("sfdisk: %v\n%s", err, out)
		}
		b, err := os.ReadFile(img)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	h := host.NewLocal("fuzz", dir)
	defer h.Close()
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, "fuzz.img"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		file, err := h.OpenFile(context.Background(), "/fuzz.img", os.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		d := &Drive{SectorSize: 512, Size: int64(len(b))}
		d.readTable(file)
		seen := map[int]bool{}
		for _, p := range d.Partitions {
			if p.Start < 0 || p.Size <= 0 || seen[p.Number] {
				t.Fatalf("%s table: partition %+v", d.Table, p)
			}
			seen[p.Number] = true
		}
	})
}
