package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/drover-dr/drover/lang"
	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"
)

// view renders a command's events for people (text) or machines (one JSON
// object per line on stdout). Errors go to stderr in text mode.
type view struct {
	out, err io.Writer
	json     bool
	color    bool
	terminal bool
	files    map[string]*hcl.File
	// interrupts prints the interrupt messages; progress bars take them
	// while they are drawn.
	interrupts *interrupts

	mu sync.Mutex
}

// event writes one JSON line: {"type": typ, "@timestamp": ..., fields...}.
func (v *view) event(typ string, fields map[string]any) {
	obj := map[string]any{"type": typ, "@timestamp": time.Now().UTC().Format(time.RFC3339Nano)}
	for k, x := range fields {
		obj[k] = x
	}
	b, err := json.Marshal(obj)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"type": "error", "message": err.Error()})
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.out.Write(append(b, '\n'))
}

// document writes a JSON document (a plan, the state, the outputs) as the
// one line --json promises, whatever indentation its encoder chose.
func (v *view) document(doc []byte) error {
	var line bytes.Buffer
	if err := json.Compact(&line, doc); err != nil {
		return err
	}
	line.WriteByte('\n')
	v.mu.Lock()
	defer v.mu.Unlock()
	_, err := v.out.Write(line.Bytes())
	return err
}

// printf writes text for people; nothing in JSON mode.
func (v *view) printf(format string, args ...any) {
	if v.json {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintf(v.out, format, args...)
}

func (v *view) bold(s string) string {
	if !v.color {
		return s
	}
	return "\x1b[1m" + s + "\x1b[0m"
}

func (v *view) green(s string) string {
	if !v.color {
		return s
	}
	return "\x1b[32m" + s + "\x1b[0m"
}

// diagnostics shows diags: rendered with source snippets on stderr, or as
// diagnostic events. It reports whether any was an error.
func (v *view) diagnostics(diags hcl.Diagnostics) bool {
	if len(diags) == 0 {
		return false
	}
	if v.json {
		for _, d := range lang.DiagnosticsJSON(v.files, diags) {
			v.event("diagnostic", map[string]any{"diagnostic": d})
		}
		return diags.HasErrors()
	}
	width := 0
	if v.terminal {
		if w, _, err := term.GetSize(1); err == nil {
			width = w
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	lang.WriteDiagnostics(v.err, v.files, diags, lang.DiagnosticWriterOptions{Color: v.color, Width: width})
	return diags.HasErrors()
}

// fail reports diags and returns errReported when they hold an error.
func (v *view) fail(diags hcl.Diagnostics) error {
	if v.diagnostics(diags) {
		return errReported
	}
	return nil
}

// errorf reports a problem that has no source location.
func (v *view) errorf(summary, detailFormat string, args ...any) error {
	v.diagnostics(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(detailFormat, args...)}})
	return errReported
}
