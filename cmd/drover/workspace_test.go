package main

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestLiteralSize(t *testing.T) {
	tests := []struct {
		count, forEach string
		want           int
	}{
		{"", "", 1},
		{"1000", "", 1000},
		{"0", "", 0},
		{"var.n", "", 1},
		{"length(var.hosts)", "", 1},
		{"-1", "", 1},
		{"2.5", "", 1},
		{"", `["a", "b", "c"]`, 3},
		{"", `{ a = 1, b = 2 }`, 2},
		{"", `toset(var.names)`, 1},
	}
	parse := func(src string) hcl.Expression {
		if src == "" {
			return nil
		}
		e, diags := hclsyntax.ParseExpression([]byte(src), "test", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", src, diags)
		}
		return e
	}
	for _, tt := range tests {
		if got := literalSize(parse(tt.count), parse(tt.forEach)); got != tt.want {
			t.Errorf("literalSize(count = %q, for_each = %q) = %d, want %d", tt.count, tt.forEach, got, tt.want)
		}
	}
}
