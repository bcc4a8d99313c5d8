package providers

import (
	"fmt"
	"regexp"

	"github.com/zclconf/go-cty/cty"
)

// Severity of a Diagnostic.
type Severity int

const (
	Error Severity = iota
	Warning
)

// Diagnostic is a provider's account of a problem. Path, when set, names the
// attribute it is about so the core can point at the configuration line.
type Diagnostic struct {
	Severity Severity
	Summary  string
	Detail   string
	Path     cty.Path
}

// Diagnostics is a list of Diagnostic values; append to it freely.
type Diagnostics []Diagnostic

func (d Diagnostics) HasErrors() bool {
	for _, x := range d {
		if x.Severity == Error {
			return true
		}
	}
	return false
}

// Errorf builds an error diagnostic without an attribute path.
func Errorf(summary, detailFormat string, args ...any) Diagnostic {
	return Diagnostic{Severity: Error, Summary: summary, Detail: detail(detailFormat, args)}
}

// AttrErrorf builds an error diagnostic about one attribute.
func AttrErrorf(path cty.Path, summary, detailFormat string, args ...any) Diagnostic {
	return Diagnostic{Severity: Error, Summary: summary, Detail: detail(detailFormat, args), Path: path}
}

// doublePeriod is a sentence ended twice: by the text put into a detail
// (a tool's "Invalid argument.") and by the detail's own "%s.". Not an
// ellipsis, nor a path's "..".
var doublePeriod = regexp.MustCompile("([^.\\s`'\"/])\\.\\.(\\s|$)")

func detail(format string, args []any) string {
	return doublePeriod.ReplaceAllString(fmt.Sprintf(format, args...), "$1.$2")
}
