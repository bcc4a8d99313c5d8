package report

import (
	"html/template"
	"strings"
	"testing"
)

// escapeContexts are the places the Go-written parts of the page put a
// value, each as the markup around it: text, an element that holds only
// text (an SVG title), quoted attribute values.
var escapeContexts = []struct{ name, open, close string }{
	{"text", `<pre>`, `</pre>`},
	{"title", `<svg><rect><title>`, `</title></rect></svg>`},
	{"attribute", `<span class="line `, `"></span>`},
	{"id", `<article id="step-`, `"></article>`},
}

// checkEscapeAsTemplate fails unless s escaped by htmlEscaper is what
// html/template writes for it in every context the page puts values in.
func checkEscapeAsTemplate(t *testing.T, s string) {
	t.Helper()
	for _, c := range escapeContexts {
		var b strings.Builder
		if err := template.Must(template.New("").Parse(c.open+"{{.}}"+c.close)).Execute(&b, s); err != nil {
			t.Fatal(err)
		}
		if got, want := c.open+htmlEscaper.Replace(s)+c.close, b.String(); got != want {
			t.Errorf("%s: %q written as %q, html/template writes %q", c.name, s, got, want)
		}
	}
}

// TestEscapeHTMLAsTemplate holds the escaping of the Go-written parts of
// the page to html/template's, so that they are the bytes the template
// wrote and as safe.
func TestEscapeHTMLAsTemplate(t *testing.T) {
	for _, s := range []string{
		"",
		"w0[12]",
		`</script><script>alert(1)</script>`,
		`"quoted" & 'single' a+b <b>`,
		"nul \x00 byte, escape \x1b[31m, bytes \xff\xfe, and ﷐ \uffff \u2028",
		"&amp; already escaped &#34;",
	} {
		t.Run(s, func(t *testing.T) { checkEscapeAsTemplate(t, s) })
	}
}

func FuzzEscapeHTMLAsTemplate(f *testing.F) {
	f.Add(`<a href="x">'&+</a>`)
	f.Add("\x00\xff\uffff")
	f.Fuzz(checkEscapeAsTemplate)
}
