package lang

import (
	"bytes"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical HCL layout.
func Format(src []byte) []byte { return hclwrite.Format(src) }

// FormatFile formats one file for `drover fmt`: it returns the canonical
// layout and whether it differs from src. A file with syntax errors is
// returned unchanged with the errors, since formatting it could lose
// text. JSON files are left as they are.
func FormatFile(name string, src []byte) ([]byte, bool, hcl.Diagnostics) {
	if strings.HasSuffix(name, ".json") {
		return src, false, nil
	}
	if _, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
		return src, false, diags
	}
	out := hclwrite.Format(src)
	return out, !bytes.Equal(src, out), nil
}
