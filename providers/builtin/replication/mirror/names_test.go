package mirror

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOddNamesListedEscaped: names that are not UTF-8, that normalization would change
// (NFD) or that hold terminal escapes are mirrored byte for byte, and the
// plan lists them escaped, link targets too.
func TestOddNamesListedEscaped(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"bad\xff\xfe.txt", "cafe\u0301.txt", "café.txt", "evil\x1b[2Kline\nnext.txt", `back\slash`} {
		write(t, e.src(name), name, t0)
	}
	if err := os.Symlink("\x1b[31mred", e.src("link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(e.src("café.txt"), e.src("same\tinode")); err != nil {
		t.Fatal(err)
	}
	m := e.mirror(Options{Preserve: PreserveAll})
	got := e.sync(m)
	want := []string{
		"+ /",
		`+ back\\slash (10 B)`,
		`+ bad\xff\xfe.txt (9 B)`,
		`+ cafe\u0301.txt (10 B)`,
		"+ café.txt (9 B)",
		`+ evil\x1b[2Kline\nnext.txt (21 B)`,
		`+ link -> \x1b[31mred`,
		`+ same\tinode => café.txt`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	same(t, e.src(), e.dst())
}
