package lang

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

var benchSpec = hcldec.ObjectSpec{
	"input":  &hcldec.AttrSpec{Name: "input", Type: cty.String},
	"other":  &hcldec.AttrSpec{Name: "other", Type: cty.String},
	"labels": &hcldec.AttrSpec{Name: "labels", Type: cty.List(cty.String)},
}

const countedResource = `
variable "prefix" {
  type    = string
  default = "dr"
}

resource "value" "base" {
  input = "base"
}

resource "value" "x" {
  count  = 10000
  input  = "${var.prefix}-${count.index}"
  other  = upper(value.base.output)
  labels = [for i in range(3) : format("%s-%d", var.prefix, i + count.index)]
}
`

func writeConfig(b *testing.B, files map[string]string) *Config {
	b.Helper()
	dir := b.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	cfg, diags := LoadDir(dir)
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	return cfg
}

// BenchmarkEvalCountedResource evaluates the body of a count = 10000
// resource for all its instances, one Scope per instance as the planner
// does.
func BenchmarkEvalCountedResource(b *testing.B) {
	cfg := writeConfig(b, map[string]string{"main.dr.hcl": countedResource})
	data := &testData{
		vars: map[string]cty.Value{"prefix": cty.StringVal("dr")},
		resources: map[addrs.Resource]cty.Value{
			res("value", "base"): cty.ObjectVal(map[string]cty.Value{"output": cty.StringVal("base")}),
		},
	}
	rc := cfg.Resources[res("value", "x")]
	n, diags := (&Scope{Data: data, BaseDir: cfg.Dir}).EvalCount(rc.Count)
	if diags.HasErrors() || n != 10000 {
		b.Fatalf("count %d: %v", n, diags)
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range n {
			s := &Scope{Data: data, BaseDir: cfg.Dir, Instance: Instance{Key: addrs.IntK(i)}}
			if _, diags := s.EvalBody(rc.Config, benchSpec); diags.HasErrors() {
				b.Fatal(diags.Error())
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/instance")
}

// BenchmarkEvalChain evaluates a chain of 1000 resources, each reading
// the previous one's output, publishing each result before the next, as
// the planner walks such a chain.
func BenchmarkEvalChain(b *testing.B) {
	const length = 1000
	var src strings.Builder
	src.WriteString("resource \"value\" \"r0\" {\n  input = \"start\"\n}\n")
	for i := 1; i < length; i++ {
		fmt.Fprintf(&src, "resource \"value\" \"r%d\" {\n  input = \"${value.r%d.output}+\"\n}\n", i, i-1)
	}
	cfg := writeConfig(b, map[string]string{"chain.dr.hcl": src.String()})
	b.ReportAllocs()
	for b.Loop() {
		data := &testData{resources: map[addrs.Resource]cty.Value{}}
		for i := range length {
			addr := res("value", fmt.Sprintf("r%d", i))
			s := &Scope{Data: data, BaseDir: cfg.Dir}
			v, diags := s.EvalBody(cfg.Resources[addr].Config, benchSpec)
			if diags.HasErrors() {
				b.Fatal(diags.Error())
			}
			data.resources[addr] = cty.ObjectVal(map[string]cty.Value{"output": v.GetAttr("input")})
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*length), "ns/resource")
}

// BenchmarkEvalConfigSize evaluates one resource body in configurations
// of growing size: the cost must not grow with it.
func BenchmarkEvalConfigSize(b *testing.B) {
	for _, size := range []int{10, 10000} {
		b.Run(fmt.Sprintf("resources=%d", size), func(b *testing.B) {
			var src strings.Builder
			data := &testData{vars: map[string]cty.Value{"prefix": cty.StringVal("dr")}, resources: map[addrs.Resource]cty.Value{}}
			for i := range size {
				fmt.Fprintf(&src, "resource \"value\" \"r%d\" {\n  input = \"${var.prefix}-%d\"\n}\n", i, i)
				data.resources[res("value", fmt.Sprintf("r%d", i))] = cty.ObjectVal(map[string]cty.Value{"output": cty.StringVal("x")})
			}
			cfg := writeConfig(b, map[string]string{"main.dr.hcl": src.String()})
			body := cfg.Resources[res("value", "r5")].Config
			b.ReportAllocs()
			for b.Loop() {
				if _, diags := (&Scope{Data: data, BaseDir: cfg.Dir}).EvalBody(body, benchSpec); diags.HasErrors() {
					b.Fatal(diags.Error())
				}
			}
		})
	}
}
