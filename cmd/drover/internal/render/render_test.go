package render

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/planner/plan"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
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

// TestPlanGolden renders the planner's golden plan documents.
func TestPlanGolden(t *testing.T) {
	docs, err := filepath.Glob("../../../../planner/testdata/plan/*/plan.json")
	if err != nil || len(docs) == 0 {
		t.Fatalf("no plan documents: %v", err)
	}
	for _, doc := range docs {
		name := filepath.Base(filepath.Dir(doc))
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(doc)
			if err != nil {
				t.Fatal(err)
			}
			p, err := plan.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := Plan(&out, p, Options{}); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".txt", out.String())
		})
	}
}

func TestSensitiveAndNested(t *testing.T) {
	obj := func(secret, port string, lines string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{
			"password": cty.StringVal(secret),
			"listen":   cty.ObjectVal(map[string]cty.Value{"port": cty.StringVal(port), "host": cty.StringVal("0.0.0.0")}),
			"script":   cty.StringVal(lines),
			"tags":     cty.ListVal([]cty.Value{cty.StringVal("dr"), cty.StringVal("fs1")}),
		})
	}
	c := &plan.Change{
		Action:          plan.Update,
		Before:          obj("old", "80", "a\nb\nc\n"),
		After:           obj("new", "8080", "a\nB\nc\n"),
		SensitivePaths:  []cty.Path{cty.GetAttrPath("password")},
		RequiresReplace: nil,
		Description:     "2 lines of the script change",
	}
	c.Addr.Type, c.Addr.Name, c.Addr.Mode = "svc", "web", 'M'
	p := &plan.Plan{Mode: plan.Normal, Changes: []*plan.Change{c},
		Outputs: []*plan.OutputChange{{Name: "pw", Action: plan.Create, After: cty.StringVal("x"), Sensitive: true}}}
	var out bytes.Buffer
	if err := Plan(&out, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "new") || strings.Contains(out.String(), "old") {
		t.Fatalf("a sensitive value leaked:\n%s", out.String())
	}
	golden(t, "sensitive-nested.txt", out.String())
	var colored bytes.Buffer
	Plan(&colored, p, Options{Color: true})
	if !strings.Contains(colored.String(), "\x1b[33m~\x1b[0m") {
		t.Fatalf("no colour with Color set:\n%q", colored.String())
	}
}

// TestItemisedDescription renders a description of several lines: the
// summary, then each item indented below it.
func TestItemisedDescription(t *testing.T) {
	c := &plan.Change{
		Action: plan.Update,
		Before: cty.ObjectVal(map[string]cty.Value{"pending": cty.NumberIntVal(3)}),
		After:  cty.ObjectVal(map[string]cty.Value{"pending": cty.UnknownVal(cty.Number)}),
		Description: "1 to add, 1 to update, 1 to delete, 12 B to send; oldest unreplicated change 2h13m ago\n" +
			"+ fs1:/srv/repset/new.txt (12 B)\n~ fs1:/srv/repset/conf (mode)\n- fs1:/srv/repset/old.txt",
	}
	c.Addr.Type, c.Addr.Name, c.Addr.Mode = "replication_set", "repset", 'M'
	goldenPlan(t, "itemised-description.txt", &plan.Plan{Mode: plan.Normal, Changes: []*plan.Change{c}})
}

// TestDescriptionEscaped: what a provider's description holds that would
// act on the terminal (erase a line, recolour, bytes that are not UTF-8)
// is printed escaped, its lines kept.
func TestDescriptionEscaped(t *testing.T) {
	c := &plan.Change{
		Action:      plan.Update,
		Before:      cty.ObjectVal(map[string]cty.Value{"pending": cty.NumberIntVal(1)}),
		After:       cty.ObjectVal(map[string]cty.Value{"pending": cty.UnknownVal(cty.Number)}),
		Description: "1 to add\x1b[31m\n+ fs1:/srv/evil\x1b[2K\r\xff.txt (1 B)",
	}
	c.Addr.Type, c.Addr.Name, c.Addr.Mode = "replication_set", "repset", 'M'
	var out bytes.Buffer
	if err := Plan(&out, &plan.Plan{Mode: plan.Normal, Changes: []*plan.Change{c}}, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  # (1 to add\\x1b[31m)\n", "  #   + fs1:/srv/evil\\x1b[2K\\r\\xff.txt (1 B)\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the plan lacks %q:\n%s", want, out.String())
		}
	}
	if strings.ContainsAny(out.String(), "\x1b\r") {
		t.Errorf("a control character reached the output:\n%q", out.String())
	}
}

// goldenPlan renders p and compares it with the golden file name.
func goldenPlan(t *testing.T, name string, p *plan.Plan) {
	t.Helper()
	var out bytes.Buffer
	if err := Plan(&out, p, Options{}); err != nil {
		t.Fatal(err)
	}
	golden(t, name, out.String())
}

// TestLongText renders a change of a long multi-line string: lines added
// at the start, one line changed in the middle and one near the end, each
// with three unchanged lines around it; the unchanged lines farther away
// are counted, not shown.
func TestLongText(t *testing.T) {
	var before, after []string
	for i := 1; i <= 40; i++ {
		before = append(before, fmt.Sprintf("line %d", i))
	}
	after = append([]string{"# managed by drover", "# do not edit"}, before...)
	after[2+9] = "line 10 (changed)"
	after[2+33] = "line 34 (changed)"
	text := func(lines []string) cty.Value { return cty.StringVal(strings.Join(lines, "\n") + "\n") }
	c := &plan.Change{
		Action: plan.Update,
		Before: cty.ObjectVal(map[string]cty.Value{"content": text(before)}),
		After:  cty.ObjectVal(map[string]cty.Value{"content": text(after)}),
	}
	c.Addr.Type, c.Addr.Name, c.Addr.Mode = "file", "conf", 'M'
	goldenPlan(t, "long-text.txt", &plan.Plan{Mode: plan.Normal, Changes: []*plan.Change{c}})
}

// TestCollectionChanges renders changed lists and sets element by
// element: added and removed elements marked, unchanged ones kept near a
// change and counted farther away, elements that are objects indented as
// values are; maps key by key, as objects are; output changes alike.
func TestCollectionChanges(t *testing.T) {
	strs := func(ss ...string) []cty.Value {
		var out []cty.Value
		for _, s := range ss {
			out = append(out, cty.StringVal(s))
		}
		return out
	}
	var long []string
	for i := 1; i <= 12; i++ {
		long = append(long, fmt.Sprintf("host%02d", i))
	}
	longAfter := append(append([]string(nil), long[:6]...), long[7:]...)
	share := func(name, path string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(name), "path": cty.StringVal(path)})
	}
	c := &plan.Change{
		Action: plan.Update,
		Before: cty.ObjectVal(map[string]cty.Value{
			"exclude": cty.ListVal(strs("*.tmp", "*.bak")),
			"hosts":   cty.ListVal(strs(long...)),
			"labels":  cty.MapVal(map[string]cty.Value{"role": cty.StringVal("file server"), "site": cty.StringVal("london"), "tier": cty.StringVal("1")}),
			"ports":   cty.ListValEmpty(cty.Number),
			"shares":  cty.ListVal([]cty.Value{share("data", "/srv/data"), share("home", "/srv/home")}),
			"tags":    cty.SetVal(strs("dr", "prod")),
		}),
		After: cty.ObjectVal(map[string]cty.Value{
			"exclude": cty.ListVal(strs("*.tmp", "*.swp")),
			"hosts":   cty.ListVal(strs(longAfter...)),
			"labels":  cty.MapVal(map[string]cty.Value{"role": cty.StringVal("file server"), "site": cty.StringVal("leeds"), "dr site": cty.StringVal("york")}),
			"ports":   cty.ListVal([]cty.Value{cty.NumberIntVal(445)}),
			"shares":  cty.ListVal([]cty.Value{share("data", "/srv/data"), share("home", "/home")}),
			"tags":    cty.SetVal(strs("dr", "standby")),
		}),
	}
	c.Addr.Type, c.Addr.Name, c.Addr.Mode = "svc", "files", 'M'
	ips := func(kv ...string) cty.Value {
		m := map[string]cty.Value{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = cty.StringVal(kv[i+1])
		}
		return cty.ObjectVal(m)
	}
	outputs := []*plan.OutputChange{
		{Name: "ips", Action: plan.Update, Before: ips("leeds", "10.0.0.2", "london", "10.0.0.1"), After: ips("leeds", "10.0.0.2", "london", "10.0.0.9", "york", "10.0.0.3")},
		{Name: "sites", Action: plan.Update, Before: cty.ListVal(strs("leeds", "london")), After: cty.ListVal(strs("leeds", "london", "york"))},
	}
	goldenPlan(t, "collection-changes.txt", &plan.Plan{Mode: plan.Normal, Changes: []*plan.Change{c}, Outputs: outputs})
}

func TestValue(t *testing.T) {
	tests := []struct {
		in   cty.Value
		want string
	}{
		{cty.StringVal("x"), `"x"`},
		{cty.NumberIntVal(3), "3"},
		{cty.True, "true"},
		{cty.NullVal(cty.String), "null"},
		{cty.UnknownVal(cty.String), "(known after apply)"},
		{cty.ListValEmpty(cty.String), "[]"},
		{cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.NumberIntVal(1)}), "[\n  \"a\",\n  1,\n]"},
		{cty.MapVal(map[string]cty.Value{"b": cty.StringVal("2"), "a b": cty.StringVal("1")}), "{\n  \"a b\" = \"1\"\n  b     = \"2\"\n}"},
		{cty.StringVal("one\ntwo\n"), "<<-EOT\n  one\n  two\nEOT"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := Value(tt.in); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLargePlanInOrder renders a plan of more changes than one piece: the
// pieces rendered side by side come out in the plan's order, each change
// as it renders alone.
func TestLargePlanInOrder(t *testing.T) {
	var changes []*plan.Change
	var want strings.Builder
	alone := &printer{w: &want}
	for i := range 3*renderPiece + 7 {
		c := &plan.Change{Action: plan.Create, Before: cty.NullVal(cty.Object(map[string]cty.Type{"input": cty.Number})),
			After: cty.ObjectVal(map[string]cty.Value{"input": cty.NumberIntVal(int64(i))})}
		c.Addr.Type, c.Addr.Name, c.Addr.Mode = "value", fmt.Sprintf("r%d", i), 'M'
		if i%100 == 99 {
			c.Action = plan.NoOp
			c.Before = c.After
		} else {
			alone.change(c, false)
		}
		changes = append(changes, c)
	}
	var out bytes.Buffer
	if err := Plan(&out, &plan.Plan{Mode: plan.Normal, Changes: changes}, Options{}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	start := strings.Index(got, "actions:\n\n") + len("actions:\n\n")
	end := strings.LastIndex(got, "Plan: ")
	if d := cmp.Diff(want.String(), got[start:end]); d != "" {
		t.Errorf("rendered changes differ from one-by-one rendering (-want +got):\n%s", d)
	}
	if !strings.Contains(got, "Plan: 1528 to add, 0 to change, 0 to destroy.") {
		t.Errorf("summary: %s", got[end:])
	}
}
