package report

import (
	"html/template"
	"slices"
	"strconv"
	"strings"
)

// The parts of the page written once per step (a step's article, its row
// in the timeline) are written by the Go code here, not by the template:
// html/template evaluates each of their forty-odd actions by reflection,
// which was most of the time the page of a run of a thousand steps took.
// They are the bytes the template wrote: every value from the record goes
// through escapeHTML, html/template's own escaping of text and of quoted
// attribute values (TestEscapeHTMLAsTemplate holds it to that), and the
// frame of the page stays a template.

// htmlEscaper replaces what html/template replaces in text, in the
// elements that hold only text (title) and in quoted attribute values.
var htmlEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// html is the page's text being written: markup as is, values escaped.
type html struct {
	strings.Builder
	// after is the after list written last, escaped as afterHTML: the
	// steps of a wave, written one after another, have the same list.
	after     []string
	afterHTML string
}

// escaped writes s as text.
func (h *html) escaped(s string) { htmlEscaper.WriteString(&h.Builder, s) }

// markup writes each part as is, escaping every second one: markup, value,
// markup, value...
func (h *html) markup(parts ...string) {
	for i, p := range parts {
		if i%2 == 1 {
			h.escaped(p)
		} else {
			h.WriteString(p)
		}
	}
}

func (h *html) done() template.HTML { return template.HTML(h.String()) }

// timelineRows is the chart's rows: a step's name, and its bar or the note
// saying why it has none.
func timelineRows(t *timeline) template.HTML {
	var h html
	h.Grow(len(t.Rows) * 256)
	left := t.Left.String()
	barHeight := t.BarHeight.String()
	for _, r := range t.Rows {
		textY := r.TextY.String()
		h.markup(`
<text class="name" x="`, left, `" dx="-8" y="`, textY, `">`, r.Name, `</text>`)
		if r.Bar != nil {
			h.markup(`
<rect class="bar `, r.Class, `" x="`, r.Bar.X.String(), `" y="`, r.BarY.String(), `" width="`, r.Bar.W.String(),
				`" height="`, barHeight, `" rx="2"><title>`, r.Title, `</title></rect>`)
		} else {
			h.markup(`
<text class="note `, r.Class, `" x="`, left, `" dx="6" y="`, textY, `">`, r.Note, `</text>`)
		}
	}
	return h.done()
}

// stepArticles is the steps of a wave, each an article with what it did.
func stepArticles(steps []pageStep) template.HTML {
	var h html
	h.Grow(articlesSize(steps))
	for i := range steps {
		writeStep(&h, &steps[i])
	}
	return h.done()
}

// articlesSize is about the size of the steps' articles, so that they are
// written in memory grown once, not doubled as it fills: the markup of an
// article, the step's lists, its output's lines.
func articlesSize(steps []pageStep) int {
	n := 0
	for i := range steps {
		s := &steps[i]
		n += 640 + len(s.Summary) + len(s.Error) + 96*len(s.Output)
		for _, a := range s.After {
			n += len(a) + len(", ")
		}
		for _, l := range s.Output {
			n += len(l.Text)
		}
	}
	return n
}

// afterList is after's names escaped and joined, escaped once for the
// steps of a wave that follow one another with the same list (a hundred
// names each, in a run of bench/runbook.sh).
func (h *html) afterList(after []string) string {
	if !slices.Equal(after, h.after) {
		var l html
		for i, a := range after {
			if i > 0 {
				l.WriteString(", ")
			}
			l.escaped(a)
		}
		h.after, h.afterHTML = after, l.String()
	}
	return h.afterHTML
}

func writeStep(h *html, s *pageStep) {
	h.markup(`
<article class="step `, s.Status, `" id="step-`, s.Name, `">
<h4><code>`, s.Name, `</code> <span class="badge `, s.Status, `">`, s.Status, `</span>`)
	if s.Duration != "" {
		h.markup(` <span class="took">`, s.Duration, `</span>`)
	}
	h.markup(`</h4>
<dl class="facts">
<dt>Action</dt><dd>`, s.Action)
	if s.Summary != "" {
		h.markup(`: <code>`, s.Summary, `</code>`)
	}
	h.WriteString(`</dd>`)
	if s.Host != "" {
		h.markup(`
<dt>Host</dt><dd>`, s.Host, `</dd>`)
	}
	if len(s.After) > 0 {
		h.WriteString(`
<dt>After</dt><dd>`)
		h.WriteString(h.afterList(s.After))
		h.WriteString(`</dd>`)
	}
	if s.Started != "" {
		h.markup(`
<dt>Ran</dt><dd>`, s.Started)
		if s.Finished != "" {
			h.markup(` to `, s.Finished)
		}
		h.WriteString(`</dd>`)
	}
	if s.SkipReason != "" {
		h.markup(`
<dt>Skipped</dt><dd>`, s.SkipReason, `</dd>`)
	}
	if s.Attempts != 0 {
		h.markup(`
<dt>Attempts</dt><dd>`, strconv.Itoa(s.Attempts), `</dd>`)
	}
	if s.ExitCode != nil {
		h.markup(`
<dt>Exit code</dt><dd>`, strconv.Itoa(*s.ExitCode), `</dd>`)
	}
	h.WriteString(`
</dl>`)
	if a := s.Answer; a != nil {
		h.markup(`
<div class="answer">
<p class="question">`, a.Question, `</p>
<p>Answered <strong>`, a.Answer, `</strong> by `, a.By, ` at `, s.AnsweredAt, ` via `, a.Via, `</p>
</div>`)
	}
	if len(s.Checks) > 0 {
		h.WriteString(`
<table class="checks">
<thead><tr><th>check</th><th>target</th><th>result</th><th>detail</th><th>at</th></tr></thead>
<tbody>`)
		for _, c := range s.Checks {
			result := `<span class="over">failed</span>`
			if c.Passed {
				result = `<span class="ok">passed</span>`
			}
			h.markup(`
<tr><td>`, c.Kind, `</td><td><code>`, c.Target, `</code></td><td>`)
			h.WriteString(result)
			h.markup(`</td><td>`, c.Detail, `</td><td>`, c.At, `</td></tr>`)
		}
		h.WriteString(`
</tbody>
</table>`)
	}
	if s.Error != "" {
		h.markup(`
<pre class="error">`, s.Error, `</pre>`)
	}
	if s.OutputError != "" {
		h.markup(`
<p class="over">The output log cannot be read: `, s.OutputError, `</p>`)
	}
	if len(s.Output) > 0 {
		h.markup(`
<details class="output">
<summary>Output (`, strconv.Itoa(len(s.Output)), ` lines)</summary>
<pre>`)
		for _, l := range s.Output {
			h.markup(`
<span class="line `, l.Stream, `"><span class="at">`, l.At, `</span> <span class="stream">`, l.Stream, `</span> `, l.Text, `</span>`)
		}
		h.WriteString(`
</pre>
</details>`)
	}
	h.WriteString(`
</article>`)
}
