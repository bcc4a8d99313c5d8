package report

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/record"
)

// TestHTMLInChromium opens a report in a real browser, headless Chromium,
// from a file as a user would offline: the rendered DOM holds every step
// and the RTO lines, and the screenshot shows the page with the timeline's
// bars in the colours of their statuses.
func TestHTMLInChromium(t *testing.T) {
	chromium := testenv.Command(t, "chromium", "chromium")
	dir := t.TempDir()
	s := record.NewStore("testdata/runs")
	r, err := s.Load("20261207T110000Z-bbbbbb")
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := HTML(&page, s, r); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, page.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	browse := func(args ...string) []byte {
		t.Helper()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + filepath.Join(dir, "profile"),
			"--window-size=1200,800"}, append(args, "file://"+file)...)
		cmd := exec.CommandContext(ctx, chromium, args...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		return out
	}

	dom := string(browse("--dump-dom"))
	for _, st := range r.Steps {
		if !strings.Contains(dom, "<code>"+st.Name+"</code>") {
			t.Errorf("the rendered page lacks step %s", st.Name)
		}
	}
	for _, want := range []string{`class="rto-budget"`, "RTO budget 5m", "RTO 6m39s", "3e1f2a9c4d5b6e7f8a9b0c1d2e3f4a5b6c7d8e9f"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %s", want)
		}
	}

	shot := filepath.Join(dir, "report.png")
	browse("--screenshot=" + shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	colours := map[uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|b>>8]++
		}
	}
	if len(colours) < 16 {
		t.Errorf("the screenshot has %d colours: a blank page?", len(colours))
	}
	// The bars of succeeded and failed steps, in the style sheet's colours:
	// at this window size they alone cover about 1,900 and 650 of the
	// pixels sampled, the badges, lines and legend in those colours about
	// 600 and 500.
	for name, c := range map[string]struct {
		rgb   uint32
		least int
	}{"succeeded": {0x2e7d32, 1500}, "failed": {0xc62828, 900}} {
		if colours[c.rgb] < c.least {
			t.Errorf("the screenshot has %d sampled pixels of %s's colour #%06x, want %d or more: no timeline bars?", colours[c.rgb], name, c.rgb, c.least)
		}
	}
}
