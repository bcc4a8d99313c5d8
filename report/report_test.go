package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/record"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Fatalf("%s (-want +got):\n%s", name, diff)
	}
}

// The store in testdata/runs holds one record of each kind of run: a
// failover that succeeded (a prompt answered, a check passed), one that
// failed with on_failure = "continue" and went over both budgets (its
// output holds markup and terminal escapes), an interrupted drill (a
// step skipped, one cut short, one cancelled), a run of a step with a
// long output, kept compressed, and of one with a line of 10,000
// characters.
var runs = []string{
	"20261207T100000Z-aaaaaa",
	"20261207T110000Z-bbbbbb",
	"20261207T120000Z-cccccc",
	"20261207T130000Z-dddddd",
}

func TestTextGolden(t *testing.T) {
	s := record.NewStore("testdata/runs")
	for _, id := range runs {
		r, err := s.Load(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			opts TextOptions
		}{
			{"text", TextOptions{}},
			{"output", TextOptions{Output: true}},
		} {
			t.Run(id+"/"+tc.name, func(t *testing.T) {
				var b bytes.Buffer
				if err := Text(&b, s, r, tc.opts); err != nil {
					t.Fatal(err)
				}
				golden(t, id+"."+tc.name+".txt", b.String())
			})
		}
	}
}

func TestHTMLGolden(t *testing.T) {
	s := record.NewStore("testdata/runs")
	for _, id := range runs {
		t.Run(id, func(t *testing.T) {
			r, err := s.Load(id)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := HTML(&b, s, r); err != nil {
				t.Fatal(err)
			}
			golden(t, id+".html", b.String())
		})
	}
}

// TestHTMLEscapes checks the page against a step's hostile output: markup
// stays text, terminal escapes and bytes that are not UTF-8 are shown
// escaped, and the page loads nothing from elsewhere.
func TestHTMLEscapes(t *testing.T) {
	s := record.NewStore("testdata/runs")
	r, err := s.Load("20261207T110000Z-bbbbbb")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := HTML(&b, s, r); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		`wrong fs type &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;`,
		`\x1b[31mred\x1b[0m &lt;b&gt;bold&lt;/b&gt; &amp; &#34;quotes&#34;`,
		`bytes: \xff\xfe end`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, bad := range []string{"<script", "<b>bold", "\x1b", "src=", "href=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
}

// TestLargeOutput keeps a step's output whole, in text and on the page,
// also once the log is compressed, and folds it on the page.
func TestLargeOutput(t *testing.T) {
	s := record.NewStore(t.TempDir())
	r := record.New("failover", record.Failover, record.Config{Dir: "/srv/dr"}, record.Budget{RTO: record.Duration(time.Minute)})
	o, err := s.CreateOutput(r.RunID, "copy")
	if err != nil {
		t.Fatal(err)
	}
	const n = 30000
	w := o.Stream("stdout")
	for i := range n {
		fmt.Fprintf(w, "copied block %d of %d, a line of a long output\n", i, n)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(o.Name(), ".gz") {
		t.Fatalf("the log %s is not compressed; make it larger", o.Name())
	}
	code := 0
	r.Steps = []*record.Step{{Name: "copy", Action: "run", Host: "fs2", Status: record.Succeeded, Output: o.Name(), ExitCode: &code,
		StartedAt: r.StartedAt, FinishedAt: r.StartedAt.Add(3 * time.Second)}}
	r.Finish(r.StartedAt.Add(3*time.Second), record.Succeeded)

	t.Run("text", func(t *testing.T) {
		var b bytes.Buffer
		if err := Text(&b, s, r, TextOptions{Output: true}); err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, n / 2, n - 1} {
			if want := fmt.Sprintf("stdout | copied block %d of %d,", i, n); !strings.Contains(b.String(), want) {
				t.Errorf("the text lacks %q", want)
			}
		}
		if got := strings.Count(b.String(), " stdout | copied block "); got != n {
			t.Errorf("the text shows %d lines of output, want %d", got, n)
		}
	})
	t.Run("html", func(t *testing.T) {
		var b bytes.Buffer
		if err := HTML(&b, s, r); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		if got := strings.Count(page, "copied block "); got != n {
			t.Errorf("the page shows %d lines of output, want %d", got, n)
		}
		if !strings.Contains(page, fmt.Sprintf("<summary>Output (%d lines)</summary>", n)) {
			t.Errorf("the page does not say how long the output is")
		}
		if strings.Contains(page, "<details open") {
			t.Errorf("the output is unfolded")
		}
	})
}

// TestUnreadableOutput writes the rest of the report and says which log
// it could not read.
func TestUnreadableOutput(t *testing.T) {
	s := record.NewStore(t.TempDir())
	r := record.New("failover", record.Failover, record.Config{}, record.Budget{})
	r.Steps = []*record.Step{{Name: "pre", Action: "run", Status: record.Succeeded, Output: "pre.log"}}
	if err := s.Save(r); err != nil {
		t.Fatal(err)
	}
	var text, page bytes.Buffer
	if err := Text(&text, s, r, TextOptions{}); err == nil || !strings.Contains(err.Error(), "the output of step pre") {
		t.Errorf("Text: %v", err)
	}
	if !strings.Contains(text.String(), "output: cannot be read:") {
		t.Errorf("the text does not say the output is missing:\n%s", text.String())
	}
	if err := HTML(&page, s, r); err == nil {
		t.Errorf("HTML of a missing log succeeded")
	}
	if !strings.Contains(page.String(), "The output log cannot be read") {
		t.Errorf("the page does not say the output is missing")
	}
}

func TestJSONIsTheRecordOnOneLine(t *testing.T) {
	s := record.NewStore("testdata/runs")
	r, err := s.Load(runs[0])
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(b.String(), "\n"); lines != 1 || !strings.HasSuffix(b.String(), "}\n") {
		t.Fatalf("JSON wrote %d lines: %s", lines, b.String())
	}
	back, err := record.Unmarshal(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(r, back); d != "" {
		t.Errorf("the JSON line is not the record (-want +got):\n%s", d)
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{3 * time.Millisecond, "3ms"},
		{2345 * time.Millisecond, "2.3s"},
		{94 * time.Second, "1m34s"},
		{10 * time.Minute, "10m"},
		{2 * time.Hour, "2h"},
		{2*time.Hour + 30*time.Second, "2h0m30s"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := formatDuration(tc.d); got != tc.want {
				t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

// TestRunInProgress renders a record the engine is still writing (or
// whose run was killed): no end, no RTO, a step running, one pending.
func TestRunInProgress(t *testing.T) {
	s := record.NewStore(t.TempDir())
	r := record.New("failover", record.Failover, record.Config{Dir: "/srv/dr"}, record.Budget{RTO: record.Duration(time.Minute)})
	r.Steps = []*record.Step{
		{Name: "pre", Action: "run", Status: record.Running, StartedAt: r.StartedAt},
		{Name: "post", Action: "run", Wave: 1, Status: record.Pending},
	}
	var text, page bytes.Buffer
	if err := Text(&text, s, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"): running\n", "RTO       not measured: the run has not finished (budget 1m)\n", "  pre  running  (run)\n", "  post  pending  (run)\n"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text lacks %q:\n%s", want, text.String())
		}
	}
	if err := HTML(&page, s, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<td>not measured: the run has not finished</td>", `<text class="note running"`, `<text class="note pending"`} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page.String(), "within budget") {
		t.Errorf("an unmeasured RTO is within budget on the page")
	}
}

func TestTextColor(t *testing.T) {
	s := record.NewStore("testdata/runs")
	r, err := s.Load("20261207T110000Z-bbbbbb")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Text(&b, s, r, TextOptions{Color: true, Output: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"): \x1b[31mfailed\x1b[0m\n",
		"  \x1b[31mOVER BUDGET by 1m39s\x1b[0m\n",
		"  pre  \x1b[32msucceeded\x1b[0m in 29s",
		"check tcp fs2:445: \x1b[31mFAILED\x1b[0m",
		// What a step printed stays escaped, colours and all.
		`stderr | \x1b[31mred\x1b[0m <b>bold</b>`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the coloured text lacks %q:\n%s", want, b.String())
		}
	}
}

// TestTimelineRows keeps the chart of a long runbook (the benchmark's
// 1,000 steps) a chart: past 40 steps, rows are half as high.
func TestTimelineRows(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		steps  int
		dense  bool
		height px
	}{
		{40, false, markerSpace + 40*rowHeight + axisSpace},
		{1000, true, markerSpace + 1000*denseRow + axisSpace},
	} {
		t.Run(fmt.Sprint(tc.steps), func(t *testing.T) {
			r := &record.Record{StartedAt: t0, RTO: record.Duration(time.Minute)}
			for i := range tc.steps {
				r.Steps = append(r.Steps, &record.Step{Name: fmt.Sprintf("s%d", i), Wave: i / 100, Status: record.Succeeded,
					StartedAt: t0.Add(time.Duration(i) * 50 * time.Millisecond), FinishedAt: t0.Add(time.Duration(i+1) * 50 * time.Millisecond)})
			}
			tl := newTimeline(r)
			if tl.Dense != tc.dense || tl.Height != tc.height || len(tl.Rows) != tc.steps {
				t.Errorf("dense %v, height %v, %d rows; want %v, %v, %d", tl.Dense, tl.Height, len(tl.Rows), tc.dense, tc.height, tc.steps)
			}
			last := tl.Rows[len(tl.Rows)-1]
			if last.Bar == nil || last.Bar.X+last.Bar.W > tl.Right+0.01 {
				t.Errorf("the last step's bar %+v ends past the axis (%v)", last.Bar, tl.Right)
			}
		})
	}
}
