package planner

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// TestAttrRange: a provider's diagnostic names the line of the attribute
// its path leads to, inside nested blocks too, else the nested block's
// header, else nothing (the caller falls back on the resource block).
func TestAttrRange(t *testing.T) {
	src := `host = "fs2"
share {
  name = "a"
}
share {
  name = "b"
  path = "/srv/b"
}
`
	f, diags := hclsyntax.ParseConfig([]byte(src), "main.dr.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	share := func(i int64, attr string) cty.Path {
		return cty.GetAttrPath("share").Index(cty.NumberIntVal(i)).GetAttr(attr)
	}
	for _, tc := range []struct {
		name string
		path cty.Path
		line int // 0: none
	}{
		{"top-level attribute", cty.GetAttrPath("host"), 1},
		{"attribute of the second block", share(1, "path"), 7},
		{"attribute of the first block", share(0, "name"), 3},
		{"attribute not written: the block", share(0, "path"), 2},
		{"no such block", share(2, "path"), 0},
		{"no such attribute", cty.GetAttrPath("comment"), 0},
		{"empty path", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := attrRange(f.Body, tc.path)
			switch {
			case tc.line == 0 && r != nil:
				t.Errorf("range %v, want none", r)
			case tc.line != 0 && (r == nil || r.Start.Line != tc.line):
				t.Errorf("range %v, want line %d", r, tc.line)
			}
		})
	}
}
