package funcs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// eval evaluates src with the functions of opts and the given variables.
func eval(t *testing.T, opts Options, src string, vars map[string]cty.Value) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "test", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse %q: %s", src, diags.Error())
	}
	return expr.Value(&hcl.EvalContext{Functions: Table(opts), Variables: vars})
}

func TestFunctions(t *testing.T) {
	strs := func(ss ...string) cty.Value {
		vals := make([]cty.Value, len(ss))
		for i, s := range ss {
			vals[i] = cty.StringVal(s)
		}
		return cty.ListVal(vals)
	}
	tests := []struct {
		expr    string
		want    cty.Value
		wantErr string
	}{
		// numeric and strings
		{expr: `max(1, 7, 3)`, want: cty.NumberIntVal(7)},
		{expr: `sum([1, 2, 3.5])`, want: cty.NumberFloatVal(6.5)},
		{expr: `sum([])`, wantErr: "cannot sum an empty list"},
		{expr: `length("héllo")`, want: cty.NumberIntVal(5)},
		{expr: `length([1, 2])`, want: cty.NumberIntVal(2)},
		{expr: `length({a = 1})`, want: cty.NumberIntVal(1)},
		{expr: `length(1)`, wantErr: "argument must be a string, a collection type, or a structural type"},
		{expr: `replace("1 + 2 + 3", "+", "-")`, want: cty.StringVal("1 - 2 - 3")},
		{expr: `replace("hello world", "/w(.*)d/", "every$1")`, want: cty.StringVal("hello everyorl")},
		{expr: `startswith("drover", "dro")`, want: cty.True},
		{expr: `endswith("drover", "dro")`, want: cty.False},
		{expr: `strcontains("drover", "ove")`, want: cty.True},
		{expr: `strrev("abc")`, want: cty.StringVal("cba")},
		{expr: `format("%s-%03d", "fs", 7)`, want: cty.StringVal("fs-007")},
		{expr: `regex("[a-z]+", "123abc")`, want: cty.StringVal("abc")},
		{expr: `title("hello world")`, want: cty.StringVal("Hello World")},
		{expr: `format("%s", null)`, want: cty.NullVal(cty.String)},
		{expr: `format("%s-%d", "fs", null)`, want: cty.NullVal(cty.String)},
		{expr: `format("%s", "x")`, want: cty.StringVal("x")},
		{expr: `format("%d", "x")`, wantErr: "unsupported value"},
		{expr: `templatestring("Hello $${name}!", {name = "fs1"})`, want: cty.StringVal("Hello fs1!")},
		{expr: `templatestring("%%{ for d in disks }$${upper(d)} %%{ endfor }", {disks = ["a", "b"]})`, want: cty.StringVal("A B ")},
		{expr: `templatestring("$${nope}", {name = "x"})`, wantErr: `vars map does not contain key "nope"`},
		{expr: `templatestring("$${templatestring(\"x\", {})}", {})`, wantErr: `no function named "templatestring"`},
		{expr: `templatestring("x", "y")`, wantErr: "vars must be an object or a map"},
		{expr: `textencodebase64("Hello World", "UTF-16LE")`, want: cty.StringVal("SABlAGwAbABvACAAVwBvAHIAbABkAA==")},
		{expr: `textencodebase64("café", "windows-1252")`, want: cty.StringVal("Y2Fm6Q==")},
		{expr: `textencodebase64("日本", "ISO-8859-1")`, wantErr: "cannot encode"},
		{expr: `textencodebase64("x", "klingon")`, wantErr: `"klingon" is not a character encoding`},
		{expr: `textdecodebase64("SABlAGwAbABvACAAVwBvAHIAbABkAA==", "UTF-16LE")`, want: cty.StringVal("Hello World")},
		{expr: `textdecodebase64("Y2Fm6Q==", "windows-1252")`, want: cty.StringVal("café")},
		{expr: `textdecodebase64("%%%", "UTF-16LE")`, wantErr: "failed to decode base64"},
		{expr: `pathexpand("/etc/motd")`, want: cty.StringVal("/etc/motd")},
		{expr: `pathexpand("~user/x")`, wantErr: "not ~user"},

		// collections
		{expr: `index(["a", "b", "c"], "b")`, want: cty.NumberIntVal(1)},
		{expr: `index(["a"], "z")`, wantErr: "item not found"},
		{expr: `alltrue([true, true])`, want: cty.True},
		{expr: `alltrue([])`, want: cty.True},
		{expr: `alltrue([true, false])`, want: cty.False},
		{expr: `anytrue([false, true])`, want: cty.True},
		{expr: `anytrue([])`, want: cty.False},
		{expr: `one([])`, want: cty.NullVal(cty.DynamicPseudoType)},
		{expr: `one(["x"])`, want: cty.StringVal("x")},
		{expr: `one(["x", "y"])`, wantErr: "either zero or one elements"},
		{expr: `matchkeys(["i-123", "i-abc", "i-def"], ["us-west", "us-east", "us-east"], ["us-east"])`, want: strs("i-abc", "i-def")},
		{expr: `transpose({a = ["1", "2"], b = ["2", "3"]})`, want: cty.MapVal(map[string]cty.Value{"1": strs("a"), "2": strs("a", "b"), "3": strs("b")})},
		{expr: `reverse([1, 2])`, want: cty.TupleVal([]cty.Value{cty.NumberIntVal(2), cty.NumberIntVal(1)})},
		{expr: `merge({a = 1}, {b = 2})`, want: cty.ObjectVal(map[string]cty.Value{"a": cty.NumberIntVal(1), "b": cty.NumberIntVal(2)})},
		{expr: `lookup({a = "x"}, "b", "d")`, want: cty.StringVal("d")},
		{expr: `lookup({a = "x"}, "a")`, want: cty.StringVal("x")},
		{expr: `lookup(tomap({a = "x"}), "a")`, want: cty.StringVal("x")},
		{expr: `lookup({a = "x"}, "b")`, wantErr: `no attribute "b" and no default`},
		{expr: `lookup(tomap({a = "x"}), "b")`, wantErr: `no key "b" and no default`},
		{expr: `lookup({a = "x"}, "a", "d", "e")`, wantErr: "at most one default"},
		{expr: `lookup("x", "a")`, wantErr: "takes a map or an object"},
		{expr: `lookup({a = sensitive("x")}, "a")`, want: cty.StringVal("x").Mark(SensitiveMark)},
		{expr: `zipmap(["a"], [1])`, want: cty.ObjectVal(map[string]cty.Value{"a": cty.NumberIntVal(1)})},
		{expr: `flatten([[1], [2, [3]]])`, want: cty.TupleVal([]cty.Value{cty.NumberIntVal(1), cty.NumberIntVal(2), cty.NumberIntVal(3)})},

		// encoding and hashes
		{expr: `base64encode("Hello World")`, want: cty.StringVal("SGVsbG8gV29ybGQ=")},
		{expr: `base64decode("SGVsbG8gV29ybGQ=")`, want: cty.StringVal("Hello World")},
		{expr: `base64decode("/w==")`, wantErr: "not valid UTF-8"},
		{expr: `base64decode("%%%")`, wantErr: "failed to decode base64"},
		{expr: `urlencode("Hello World!")`, want: cty.StringVal("Hello+World%21")},
		{expr: `jsonencode({a = 1})`, want: cty.StringVal(`{"a":1}`)},
		{expr: `yamlencode({a = 1, b = ["x"]})`, want: cty.StringVal("\"a\": 1\n\"b\":\n- \"x\"\n")},
		{expr: `yamldecode("a: 1\nb: [x]")`, want: cty.ObjectVal(map[string]cty.Value{"a": cty.NumberIntVal(1), "b": cty.TupleVal([]cty.Value{cty.StringVal("x")})})},
		{expr: `coalesce("", null, "x", "y")`, want: cty.StringVal("x")},
		{expr: `coalesce(null, 2, 1)`, want: cty.NumberIntVal(2)},
		{expr: `coalesce("", null)`, wantErr: "no non-null, non-empty-string arguments"},
		{expr: `jsondecode("[1, \"a\"]")`, want: cty.TupleVal([]cty.Value{cty.NumberIntVal(1), cty.StringVal("a")})},
		{expr: `csvdecode("a,b\n1,2\n")`, want: cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("1"), "b": cty.StringVal("2")})})},
		{expr: `md5("hello world")`, want: cty.StringVal("5eb63bbbe01eeed093cb22bb8f5acdc3")},
		{expr: `sha1("hello world")`, want: cty.StringVal("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")},
		{expr: `sha256("hello world")`, want: cty.StringVal("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")},
		{expr: `base64sha256("hello world")`, want: cty.StringVal("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")},
		{expr: `sha512("")`, want: cty.StringVal("cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")},
		{expr: `uuidv5("dns", "www.terraform.io")`, want: cty.StringVal("a5008fae-b28c-5ba5-96cd-82b4c53552d6")},
		{expr: `uuidv5("url", "https://www.terraform.io/")`, want: cty.StringVal("9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5")},
		{expr: `uuidv5("nope", "x")`, wantErr: "namespace must be dns, url, oid, x500 or a UUID"},
		{expr: `base64decode(base64gzip("x")) != ""`, wantErr: "not valid UTF-8"},

		// network
		{expr: `cidrhost("10.12.112.0/20", 16)`, want: cty.StringVal("10.12.112.16")},
		{expr: `cidrhost("10.12.112.0/20", 268)`, want: cty.StringVal("10.12.113.12")},
		{expr: `cidrhost("10.0.0.0/24", -1)`, want: cty.StringVal("10.0.0.255")},
		{expr: `cidrhost("fd00:fd12:3456:7890:00a2::/72", 34)`, want: cty.StringVal("fd00:fd12:3456:7890::22")},
		{expr: `cidrhost("10.0.0.0/30", 4)`, wantErr: "prefix of 30 bits cannot accommodate a host numbered 4"},
		{expr: `cidrhost("10.0.0.0/33", 1)`, wantErr: "invalid CIDR expression"},
		{expr: `cidrnetmask("172.16.0.0/12")`, want: cty.StringVal("255.240.0.0")},
		{expr: `cidrnetmask("fd00::/8")`, wantErr: "only IPv4 networks have a netmask"},
		{expr: `cidrsubnet("172.16.0.0/12", 4, 2)`, want: cty.StringVal("172.18.0.0/16")},
		{expr: `cidrsubnet("10.1.2.0/24", 4, 15)`, want: cty.StringVal("10.1.2.240/28")},
		{expr: `cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)`, want: cty.StringVal("fd00:fd12:3456:7800:a200::/72")},
		{expr: `cidrsubnet("10.1.2.0/24", 4, 16)`, wantErr: "prefix extension of 4 does not accommodate a subnet numbered 16"},
		{expr: `cidrsubnet("10.1.2.0/24", 9, 0)`, wantErr: "insufficient address space to extend prefix of 24 by 9"},
		{expr: `cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)`, want: strs("10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20")},
		{expr: `cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16, 16, 32)`, want: strs("fd00:fd12:3456:7800::/72", "fd00:fd12:3456:7800:100::/72", "fd00:fd12:3456:7800:200::/72", "fd00:fd12:3456:7800:300::/88")},
		{expr: `cidrsubnets("10.0.0.0/30", 1, 1, 1)`, wantErr: "not enough remaining address space"},

		// time
		{expr: `timecmp("2017-11-22T00:00:00Z", "2017-11-22T01:00:00Z")`, want: cty.NumberIntVal(-1)},
		{expr: `formatdate("DD MMM YYYY", "2018-01-02T23:12:01Z")`, want: cty.StringVal("02 Jan 2018")},
		{expr: `timeadd("2017-11-22T00:00:00Z", "10m")`, want: cty.StringVal("2017-11-22T00:10:00Z")},
		{expr: `timestamp()`, want: cty.UnknownVal(cty.String).RefineNotNull()},
		{expr: `uuid()`, want: cty.UnknownVal(cty.String).RefineNotNull()},

		// conversion and sensitivity
		{expr: `tostring(5)`, want: cty.StringVal("5")},
		{expr: `tonumber("5")`, want: cty.NumberIntVal(5)},
		{expr: `tobool("true")`, want: cty.True},
		{expr: `toset(["a", "a"])`, want: cty.SetVal([]cty.Value{cty.StringVal("a")})},
		{expr: `try(tonumber("x"), 0)`, want: cty.NumberIntVal(0)},
		{expr: `can(tonumber("x"))`, want: cty.False},
		{expr: `sensitive("x")`, want: cty.StringVal("x").Mark(SensitiveMark)},
		{expr: `nonsensitive(sensitive("x"))`, want: cty.StringVal("x")},
		{expr: `upper(sensitive("x"))`, want: cty.StringVal("X").Mark(SensitiveMark)},
		{expr: `issensitive(sensitive("x"))`, want: cty.True},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, diags := eval(t, Options{}, tt.expr, nil)
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.wantErr) {
					t.Fatalf("want error containing %q, got %#v %v", tt.wantErr, got, diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if !got.RawEquals(tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestPathExpand(t *testing.T) {
	t.Setenv("HOME", "/home/dr")
	tests := map[string]string{`pathexpand("~")`: "/home/dr", `pathexpand("~/.ssh/id")`: "/home/dr/.ssh/id", `pathexpand("a/~")`: "a/~"}
	for expr, want := range tests {
		t.Run(expr, func(t *testing.T) {
			got, diags := eval(t, Options{}, expr, nil)
			if diags.HasErrors() || got.AsString() != want {
				t.Fatalf("got %#v %v, want %q", got, diags, want)
			}
		})
	}
}

func TestImpureFunctionsAtApplyTime(t *testing.T) {
	got, diags := eval(t, Options{ApplyTime: true}, `timestamp()`, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if _, err := time.Parse(time.RFC3339, got.AsString()); err != nil {
		t.Fatalf("timestamp %q: %v", got.AsString(), err)
	}
	a, _ := eval(t, Options{ApplyTime: true}, `uuid()`, nil)
	b, _ := eval(t, Options{ApplyTime: true}, `uuid()`, nil)
	if len(a.AsString()) != 36 || a.AsString()[14] != '4' || a.RawEquals(b) {
		t.Fatalf("uuids %q and %q", a.AsString(), b.AsString())
	}
}

// fileTree makes a configuration folder with files, a subfolder, a link
// inside it and links that lead out of it.
func fileTree(t *testing.T) (dir string) {
	t.Helper()
	top := t.TempDir()
	dir = filepath.Join(top, "config")
	write := func(name, content string) {
		p := filepath.Join(top, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("secret.txt", "outside")
	write("config/hello.txt", "hello world")
	write("config/binary.bin", "\xff\xfe")
	write("config/sub/greeting.tpl", "Hello ${name}!%{ for d in disks } ${upper(d)}%{ endfor }")
	write("config/sub/deep/x.txt", "x")
	write("config/sub/recursive.tpl", `${templatefile("sub/greeting.tpl", {name = "x", disks = []})}`)
	links := map[string]string{
		"config/out.txt":    "../secret.txt",
		"config/abs.txt":    filepath.Join(top, "secret.txt"),
		"config/inside.txt": "hello.txt",
		"config/outdir":     "..",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(top, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFileFunctions(t *testing.T) {
	dir := fileTree(t)
	abs, _ := filepath.Abs(dir)
	vars := map[string]cty.Value{"dir": cty.StringVal(abs)}
	set := func(ss ...string) cty.Value {
		vals := make([]cty.Value, len(ss))
		for i, s := range ss {
			vals[i] = cty.StringVal(s)
		}
		return cty.SetVal(vals)
	}
	tests := []struct {
		expr    string
		want    cty.Value
		wantErr string
	}{
		{expr: `file("hello.txt")`, want: cty.StringVal("hello world")},
		{expr: `file("${dir}/hello.txt")`, want: cty.StringVal("hello world")},
		{expr: `file("sub/../hello.txt")`, want: cty.StringVal("hello world")},
		{expr: `file("inside.txt")`, want: cty.StringVal("hello world")},
		{expr: `file("../secret.txt")`, wantErr: `"../secret.txt" is outside the configuration folder`},
		{expr: `file("${dir}/../secret.txt")`, wantErr: "is outside the configuration folder"},
		{expr: `file("/etc/passwd")`, wantErr: `"/etc/passwd" is outside the configuration folder`},
		{expr: `file("out.txt")`, wantErr: `"out.txt" is a symbolic link that leads outside the configuration folder`},
		{expr: `file("abs.txt")`, wantErr: "leads outside the configuration folder"},
		{expr: `file("outdir/secret.txt")`, wantErr: "leads outside the configuration folder"},
		{expr: `file("missing.txt")`, wantErr: `no file exists at "missing.txt"`},
		{expr: `file("binary.bin")`, wantErr: "not valid UTF-8; use filebase64"},
		{expr: `file("")`, wantErr: "the path must not be empty"},
		{expr: `filebase64("binary.bin")`, want: cty.StringVal("//4=")},
		{expr: `filemd5("hello.txt")`, want: cty.StringVal("5eb63bbbe01eeed093cb22bb8f5acdc3")},
		{expr: `filesha256("hello.txt")`, want: cty.StringVal("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")},
		{expr: `fileexists("hello.txt")`, want: cty.True},
		{expr: `fileexists("nope.txt")`, want: cty.False},
		{expr: `fileexists("sub")`, wantErr: `"sub" is not a regular file`},
		{expr: `fileexists("../secret.txt")`, wantErr: "outside the configuration folder"},
		{expr: `fileset(".", "*.txt")`, want: set("hello.txt", "inside.txt")},
		{expr: `fileset(".", "**/*.txt")`, want: set("hello.txt", "inside.txt", "sub/deep/x.txt")},
		{expr: `fileset("sub", "*.tpl")`, want: set("greeting.tpl", "recursive.tpl")},
		{expr: `fileset("sub", "*.none")`, want: cty.SetValEmpty(cty.String)},
		{expr: `fileset("..", "*")`, wantErr: "outside the configuration folder"},
		{expr: `fileset(".", "[")`, wantErr: "invalid pattern"},
		{expr: `templatefile("sub/greeting.tpl", {name = "fs1", disks = ["a", "b"]})`, want: cty.StringVal("Hello fs1! A B")},
		{expr: `templatefile("sub/greeting.tpl", {disks = []})`, wantErr: `vars map does not contain key "name"`},
		{expr: `templatefile("sub/recursive.tpl", {})`, wantErr: "templatefile"},
		{expr: `basename("a/b/c.txt")`, want: cty.StringVal("c.txt")},
		{expr: `dirname("a/b/c.txt")`, want: cty.StringVal("a/b")},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, diags := eval(t, Options{BaseDir: dir}, tt.expr, vars)
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.wantErr) {
					t.Fatalf("want error containing %q, got %#v %v", tt.wantErr, got, diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if !got.RawEquals(tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*.txt", "a.txt", true},
		{"*.txt", "d/a.txt", false},
		{"**/*.txt", "a.txt", true},
		{"**/*.txt", "d/e/a.txt", true},
		{"d/**", "d/e/a.txt", true},
		{"d/**/a.txt", "d/a.txt", true},
		{"d/?.txt", "d/ab.txt", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.name, func(t *testing.T) {
			got, err := matchGlob(strings.Split(tt.pattern, "/"), strings.Split(tt.name, "/"))
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
}

func TestErrorsNeverQuoteSensitiveArguments(t *testing.T) {
	vars := map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{
		"pw":   cty.StringVal("S3CRET").Mark(SensitiveMark),
		"odd":  cty.StringVal("S3\"CR\nET").Mark(SensitiveMark),
		"nums": cty.ObjectVal(map[string]cty.Value{"n": cty.NumberIntVal(987654)}).Mark(SensitiveMark),
	})}
	tests := []struct {
		expr, secret, want string
	}{
		{`tonumber(var.pw)`, "S3CRET", `cannot convert "(sensitive value)" to number`},
		{`tonumber(lower(var.pw))`, "s3cret", "(sensitive value)"},
		{`tonumber(var.odd)`, `S3\"CR\nET`, "(sensitive value)"},
		{`lookup(tomap({a = "x"}), var.pw)`, "S3CRET", `no key "(sensitive value)"`},
		{`cidrhost(var.pw, 1)`, "S3CRET", "invalid CIDR expression"},
		{`timecmp(var.pw, "2017-11-22T00:00:00Z")`, "S3CRET", "not an RFC 3339 timestamp"},
		{`cidrsubnet("10.0.0.0/24", 8, var.nums.n)`, "987654", "(sensitive value)"},
		{`format("%d", var.pw)`, "S3CRET", "unsupported value"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, diags := eval(t, Options{}, tt.expr, vars)
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			msg := diags.Error()
			if strings.Contains(msg, tt.secret) || !strings.Contains(msg, tt.want) {
				t.Errorf("error %q: want %q in it and not %q", msg, tt.want, tt.secret)
			}
		})
	}
	// Errors about arguments that are not sensitive still quote them.
	if _, diags := eval(t, Options{}, `tonumber("plain")`, nil); !strings.Contains(diags.Error(), `"plain"`) {
		t.Errorf("a plain argument is no longer quoted: %v", diags)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name, msg string
		texts     []string
		want      string
	}{
		{"plain", `the mode "S3CRET" is not octal`, []string{"S3CRET"}, `the mode "(sensitive value)" is not octal`},
		{"quoted escapes", `bad "a\"b\n"`, []string{"a\"b\n"}, `bad "(sensitive value)"`},
		{"longest first", "write /x/S3CRET/S3CRET2", []string{"S3CRET", "/x/S3CRET/S3CRET2"}, "write (sensitive value)"},
		{"empty text", "nothing", []string{""}, "nothing"},
		{"short text only quoted", "line 1: port \"1\" is taken\n", []string{"1", "\n"}, "line 1: port \"(sensitive value)\" is taken\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Redact(tt.msg, tt.texts); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
