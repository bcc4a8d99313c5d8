package lang

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcled"
	"github.com/zclconf/go-cty/cty"
)

// ANSI sequences used when DiagnosticWriterOptions.Color is set.
const (
	ansiReset       = "\x1b[0m"
	ansiBold        = "\x1b[1m"
	ansiBoldRed     = "\x1b[1;31m"
	ansiBoldYellow  = "\x1b[1;33m"
	ansiUnderline   = "\x1b[4m"
	ansiNoUnderline = "\x1b[24m"
)

// WriteDiagnostics renders diags for people: severity and summary, then
// "on FILE line N" with the source lines and the subject underlined (with
// carets, or a terminal underline when opts.Color), the values the
// expression saw, and the detail (what to do next).
//
// Source text comes from files; a file not there (such as a --var-file) is
// read from disk, and when it cannot be read the snippet is left out.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, opts DiagnosticWriterOptions) error {
	src := newSources(files)
	var b strings.Builder
	for _, d := range diags {
		writeDiagnostic(&b, src, d, opts)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeDiagnostic(b *strings.Builder, src *sources, d *hcl.Diagnostic, opts DiagnosticWriterOptions) {
	label, color := "Error: ", ansiBoldRed
	if d.Severity == hcl.DiagWarning {
		label, color = "Warning: ", ansiBoldYellow
	}
	if opts.Color {
		fmt.Fprintf(b, "%s%s%s%s%s%s\n\n", color, label, ansiReset, ansiBold, d.Summary, ansiReset)
	} else {
		fmt.Fprintf(b, "%s%s\n\n", label, d.Summary)
	}
	if d.Subject != nil {
		writeSnippet(b, src, "", d.Subject, d.Context, opts)
		if vals := expressionValues(d); len(vals) > 0 {
			b.WriteString("    ├────────────────\n")
			for _, v := range vals {
				fmt.Fprintf(b, "    │ %s %s\n", v.Traversal, v.Statement)
			}
		}
		b.WriteString("\n")
	}
	if rel, ok := d.Extra.(RelatedRange); ok {
		writeSnippet(b, src, "("+rel.Label+") ", &rel.Range, nil, opts)
		b.WriteString("\n")
	}
	if d.Detail != "" {
		b.WriteString(wrap(d.Detail, opts.Width))
		b.WriteString("\n\n")
	}
}

// writeSnippet writes "on FILE line N, in CONTEXT:" and the source lines of
// subject (widened to context), with the subject underlined.
func writeSnippet(b *strings.Builder, src *sources, prefix string, subject, context *hcl.Range, opts DiagnosticWriterOptions) {
	fmt.Fprintf(b, "  %son %s line %d", prefix, subject.Filename, subject.Start.Line)
	if c := src.contextString(subject); c != "" {
		fmt.Fprintf(b, ", in %s", c)
	}
	b.WriteString(":\n")
	sn := src.snippet(subject, context)
	if sn == nil {
		return
	}
	for i, line := range sn.lines {
		n := sn.startLine + i
		start, end, ok := sn.highlight(i)
		if opts.Color && ok {
			fmt.Fprintf(b, "  %4d: %s%s%s%s%s\n", n, line[:start], ansiUnderline, line[start:end], ansiNoUnderline, line[end:])
			continue
		}
		fmt.Fprintf(b, "  %4d: %s\n", n, line)
		if !ok || opts.Color {
			continue
		}
		var pad strings.Builder
		for _, r := range line[:start] {
			if r == '\t' {
				pad.WriteRune('\t')
			} else {
				pad.WriteByte(' ')
			}
		}
		fmt.Fprintf(b, "        %s%s\n", pad.String(), strings.Repeat("^", max(1, utf8.RuneCountInString(line[start:end]))))
	}
}

// wrap breaks the paragraphs of text at width runes; lines that start
// with a space are preformatted and kept as they are.
func wrap(text string, width int) string {
	if width <= 0 {
		return text
	}
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == ' ' || utf8.RuneCountInString(line) <= width {
			out = append(out, line)
			continue
		}
		cur := ""
		for _, word := range strings.Fields(line) {
			switch {
			case cur == "":
				cur = word
			case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(word) > width:
				out = append(out, cur)
				cur = word
			default:
				cur += " " + word
			}
		}
		out = append(out, cur)
	}
	return strings.Join(out, "\n")
}

// sources finds the text of files named in ranges.
type sources struct {
	files map[string]*hcl.File
	disk  map[string][]byte
}

func newSources(files map[string]*hcl.File) *sources {
	return &sources{files: files, disk: map[string][]byte{}}
}

func (s *sources) bytes(filename string) []byte {
	if f := s.files[filename]; f != nil {
		return f.Bytes
	}
	b, ok := s.disk[filename]
	if !ok {
		b, _ = os.ReadFile(filename)
		s.disk[filename] = b
	}
	return b
}

func (s *sources) contextString(r *hcl.Range) string {
	f := s.files[r.Filename]
	if f == nil || r.Start.Byte == 0 {
		return ""
	}
	return hcled.ContextString(f, r.Start.Byte-1)
}

// snippet is the whole lines around a subject.
type snippet struct {
	startLine  int
	startByte  int // offset of the first line in the file
	lines      []string
	lineStarts []int // offset of each line in the file
	subject    hcl.Range
}

func (s *sources) snippet(subject, context *hcl.Range) *snippet {
	src := s.bytes(subject.Filename)
	if src == nil {
		return nil
	}
	rng := *subject
	if context != nil && context.Filename == subject.Filename {
		rng = hcl.RangeOver(*context, *subject)
	}
	if rng.Start.Byte < 0 || rng.End.Byte > len(src) || rng.Start.Byte > rng.End.Byte {
		return nil
	}
	// Walk back to the start of the first line and forward to the end of
	// the last; an end at the very start of a line does not show that line.
	start := bytes.LastIndexByte(src[:rng.Start.Byte], '\n') + 1
	endByte := rng.End.Byte
	if endByte > rng.Start.Byte && src[endByte-1] == '\n' {
		endByte--
	}
	end := len(src)
	if i := bytes.IndexByte(src[endByte:], '\n'); i >= 0 {
		end = endByte + i
	}
	sn := &snippet{startLine: rng.Start.Line, startByte: start, subject: *subject}
	off := start
	for _, line := range strings.Split(string(src[start:end]), "\n") {
		sn.lineStarts = append(sn.lineStarts, off)
		off += len(line) + 1
		sn.lines = append(sn.lines, strings.TrimSuffix(line, "\r"))
	}
	return sn
}

// highlight gives the byte span of the subject on line i, if any.
func (sn *snippet) highlight(i int) (int, int, bool) {
	ls := sn.lineStarts[i]
	le := ls + len(sn.lines[i])
	s, e := sn.subject.Start.Byte, sn.subject.End.Byte
	if s > le || e < ls || (e == ls && s != e) {
		return 0, 0, false
	}
	continued := s < ls
	s, e = max(s, ls)-ls, min(e, le)-ls
	// On the lines a subject continues onto, indentation is not part of
	// what the underline points at.
	for continued && s < e && (sn.lines[i][s] == ' ' || sn.lines[i][s] == '\t') {
		s++
	}
	if continued && s == e {
		return 0, 0, false
	}
	return s, e, true
}

// expressionValues describes the values the references of a diagnostic's
// expression had, for the references inside its subject.
func expressionValues(d *hcl.Diagnostic) []JSONExpressionValue {
	if d.Expression == nil || d.EvalContext == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []JSONExpressionValue
	for _, t := range d.Expression.Variables() {
		r := t.SourceRange()
		if d.Subject != nil && (r.Start.Byte < d.Subject.Start.Byte || r.End.Byte > d.Subject.End.Byte) {
			continue
		}
		name := traversalString(t)
		if seen[name] {
			continue
		}
		seen[name] = true
		v, diags := t.TraverseAbs(d.EvalContext)
		if diags.HasErrors() {
			continue
		}
		out = append(out, JSONExpressionValue{Traversal: name, Statement: describeValue(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Traversal < out[j].Traversal })
	return out
}

func traversalString(t hcl.Traversal) string {
	var b strings.Builder
	for _, step := range t {
		switch st := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(st.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + st.Name)
		case hcl.TraverseIndex:
			b.WriteString("[" + valueString(st.Key) + "]")
		case hcl.TraverseSplat:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

func valueString(v cty.Value) string {
	switch v.Type() {
	case cty.String:
		return strconv.Quote(v.AsString())
	case cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case cty.Bool:
		return strconv.FormatBool(v.True())
	}
	return v.Type().FriendlyName()
}

// describeValue says what a value is, without revealing sensitive ones.
func describeValue(v cty.Value) string {
	if v.HasMark(SensitiveMark) {
		return "has a sensitive value"
	}
	v, _ = v.Unmark()
	ty := v.Type()
	switch {
	case !v.IsKnown():
		if ty == cty.DynamicPseudoType {
			return "will be known only after apply"
		}
		return fmt.Sprintf("is a %s, known only after apply", ty.FriendlyName())
	case v.IsNull():
		return "is null"
	case ty.IsPrimitiveType():
		return "is " + valueString(v)
	case ty.IsObjectType():
		n := len(ty.AttributeTypes())
		if n == 0 {
			return "is object with no attributes"
		}
		return fmt.Sprintf("is object with %d attribute%s", n, plural(n))
	case ty.IsTupleType():
		n := len(ty.TupleElementTypes())
		if n == 0 {
			return "is empty tuple"
		}
		return fmt.Sprintf("is tuple with %d element%s", n, plural(n))
	case ty.IsCollectionType():
		kind := "list"
		switch {
		case ty.IsMapType():
			kind = "map"
		case ty.IsSetType():
			kind = "set"
		}
		if !v.IsWhollyKnown() && !v.Length().IsKnown() {
			return fmt.Sprintf("is %s of %s with unknown length", kind, ty.ElementType().FriendlyName())
		}
		n := v.LengthInt()
		if n == 0 {
			return fmt.Sprintf("is empty %s of %s", kind, ty.ElementType().FriendlyName())
		}
		return fmt.Sprintf("is %s of %s with %d element%s", kind, ty.ElementType().FriendlyName(), n, plural(n))
	}
	return "is " + ty.FriendlyName()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// JSONDiagnostic is a diagnostic as `--json` output carries it, in the
// layout machine-readable Terraform output uses.
type JSONDiagnostic struct {
	Severity string       `json:"severity"`
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail"`
	Range    *JSONRange   `json:"range,omitempty"`
	Snippet  *JSONSnippet `json:"snippet,omitempty"`
	// Related is a second place the diagnostic concerns, such as the first
	// declaration of a duplicated name.
	Related *JSONRelated `json:"related,omitempty"`
}

// JSONRange is a source range; End is exclusive.
type JSONRange struct {
	Filename string  `json:"filename"`
	Start    JSONPos `json:"start"`
	End      JSONPos `json:"end"`
}

// JSONPos is a position: line and column from 1, byte offset from 0.
type JSONPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// JSONSnippet is the source around the subject. The highlight offsets are
// byte offsets into Code.
type JSONSnippet struct {
	Context              *string               `json:"context"`
	Code                 string                `json:"code"`
	StartLine            int                   `json:"start_line"`
	HighlightStartOffset int                   `json:"highlight_start_offset"`
	HighlightEndOffset   int                   `json:"highlight_end_offset"`
	Values               []JSONExpressionValue `json:"values"`
}

// JSONExpressionValue tells what one reference of the expression held.
type JSONExpressionValue struct {
	Traversal string `json:"traversal"`
	Statement string `json:"statement"`
}

// JSONRelated is RelatedRange in JSON.
type JSONRelated struct {
	Label string    `json:"label"`
	Range JSONRange `json:"range"`
}

func jsonRange(r hcl.Range) JSONRange {
	return JSONRange{
		Filename: r.Filename,
		Start:    JSONPos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
		End:      JSONPos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte},
	}
}

// DiagnosticsJSON converts every diagnostic of diags for JSON output;
// files supplies the source for the snippets, as for WriteDiagnostics.
func DiagnosticsJSON(files map[string]*hcl.File, diags hcl.Diagnostics) []JSONDiagnostic {
	src := newSources(files)
	out := make([]JSONDiagnostic, len(diags))
	for i, d := range diags {
		out[i] = diagnosticJSON(src, d)
	}
	return out
}

func diagnosticJSON(src *sources, d *hcl.Diagnostic) JSONDiagnostic {
	out := JSONDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
	if d.Severity == hcl.DiagWarning {
		out.Severity = "warning"
	}
	if rel, ok := d.Extra.(RelatedRange); ok {
		out.Related = &JSONRelated{Label: rel.Label, Range: jsonRange(rel.Range)}
	}
	if d.Subject == nil {
		return out
	}
	r := jsonRange(*d.Subject)
	out.Range = &r
	sn := src.snippet(d.Subject, d.Context)
	if sn == nil {
		return out
	}
	js := &JSONSnippet{
		Code:      strings.Join(sn.lines, "\n"),
		StartLine: sn.startLine,
		Values:    expressionValues(d),
	}
	if js.Values == nil {
		js.Values = []JSONExpressionValue{}
	}
	if c := src.contextString(d.Subject); c != "" {
		js.Context = &c
	}
	offset := 0
	first := true
	for i, line := range sn.lines {
		if s, e, ok := sn.highlight(i); ok {
			if first {
				js.HighlightStartOffset = offset + s
				first = false
			}
			js.HighlightEndOffset = offset + e
		}
		offset += len(line) + 1
	}
	out.Snippet = js
	return out
}
