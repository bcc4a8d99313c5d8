package funcs

import (
	"maps"
	"time"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	ctyyaml "github.com/zclconf/go-cty-yaml"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// SensitiveMark is the cty mark carried by sensitive values.
const SensitiveMark = "sensitive"

// Options selects the folder file functions may read and whether impure
// functions return real values.
type Options struct {
	// BaseDir is the configuration folder; "" means the working directory.
	BaseDir string
	// ApplyTime makes timestamp() and uuid() return values; while planning
	// they are unknown so that a plan does not change on every run.
	ApplyTime bool
	// PlanTime is when the plan was made, what plantimestamp() returns
	// both while planning and while applying that plan; zero (validate)
	// leaves it unknown.
	PlanTime time.Time
}

// Table returns every function by name. The map is new on each call and
// never modified afterwards, so it may be shared between goroutines.
func Table(opts Options) map[string]function.Function {
	files := newFileAccess(opts.BaseDir)
	t := map[string]function.Function{
		// numeric
		"abs":      stdlib.AbsoluteFunc,
		"ceil":     stdlib.CeilFunc,
		"floor":    stdlib.FloorFunc,
		"log":      stdlib.LogFunc,
		"max":      stdlib.MaxFunc,
		"min":      stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc,
		"pow":      stdlib.PowFunc,
		"signum":   stdlib.SignumFunc,
		"sum":      SumFunc,

		// string
		"chomp":       stdlib.ChompFunc,
		"endswith":    EndsWithFunc,
		"format":      FormatFunc,
		"formatlist":  stdlib.FormatListFunc,
		"indent":      stdlib.IndentFunc,
		"join":        stdlib.JoinFunc,
		"lower":       stdlib.LowerFunc,
		"regex":       stdlib.RegexFunc,
		"regexall":    stdlib.RegexAllFunc,
		"replace":     ReplaceFunc,
		"split":       stdlib.SplitFunc,
		"startswith":  StartsWithFunc,
		"strcontains": StrContainsFunc,
		"strrev":      stdlib.ReverseFunc,
		"substr":      stdlib.SubstrFunc,
		"title":       stdlib.TitleFunc,
		"trim":        stdlib.TrimFunc,
		"trimprefix":  stdlib.TrimPrefixFunc,
		"trimspace":   stdlib.TrimSpaceFunc,
		"trimsuffix":  stdlib.TrimSuffixFunc,
		"upper":       stdlib.UpperFunc,

		// collection
		"alltrue":         AllTrueFunc,
		"anytrue":         AnyTrueFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"index":           IndexFunc,
		"keys":            stdlib.KeysFunc,
		"length":          LengthFunc,
		"lookup":          LookupFunc,
		"matchkeys":       MatchKeysFunc,
		"merge":           stdlib.MergeFunc,
		"one":             OneFunc,
		"range":           stdlib.RangeFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"transpose":       TransposeFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,

		// encoding
		"base64decode":     Base64DecodeFunc,
		"base64encode":     Base64EncodeFunc,
		"base64gzip":       Base64GzipFunc,
		"csvdecode":        stdlib.CSVDecodeFunc,
		"jsondecode":       stdlib.JSONDecodeFunc,
		"jsonencode":       stdlib.JSONEncodeFunc,
		"textdecodebase64": TextDecodeBase64Func,
		"textencodebase64": TextEncodeBase64Func,
		"urlencode":        URLEncodeFunc,
		"yamldecode":       ctyyaml.YAMLDecodeFunc,
		"yamlencode":       ctyyaml.YAMLEncodeFunc,

		// hash and crypto
		"base64sha256": Base64SHA256Func,
		"base64sha512": Base64SHA512Func,
		"md5":          MD5Func,
		"sha1":         SHA1Func,
		"sha256":       SHA256Func,
		"sha512":       SHA512Func,
		"uuid":         uuidFunc(opts.ApplyTime),
		"uuidv5":       UUIDv5Func,

		// date and time
		"formatdate":    stdlib.FormatDateFunc,
		"timeadd":       stdlib.TimeAddFunc,
		"timecmp":       TimeCmpFunc,
		"timestamp":     timestampFunc(opts.ApplyTime),
		"plantimestamp": planTimestampFunc(opts.PlanTime),

		// ip network
		"cidrhost":    CIDRHostFunc,
		"cidrnetmask": CIDRNetmaskFunc,
		"cidrsubnet":  CIDRSubnetFunc,
		"cidrsubnets": CIDRSubnetsFunc,

		// filesystem
		"abspath":          AbsPathFunc,
		"basename":         BasenameFunc,
		"dirname":          DirnameFunc,
		"file":             files.fileFunc(),
		"filebase64":       files.fileBase64Func(),
		"filebase64sha256": files.fileHashFunc(hashBase64SHA256),
		"filebase64sha512": files.fileHashFunc(hashBase64SHA512),
		"fileexists":       files.fileExistsFunc(),
		"filemd5":          files.fileHashFunc(hashMD5),
		"fileset":          files.fileSetFunc(),
		"pathexpand":       PathExpandFunc,
		"filesha1":         files.fileHashFunc(hashSHA1),
		"filesha256":       files.fileHashFunc(hashSHA256),
		"filesha512":       files.fileHashFunc(hashSHA512),

		// type conversion and sensitivity
		"can":          tryfunc.CanFunc,
		"try":          tryfunc.TryFunc,
		"tobool":       stdlib.MakeToFunc(cty.Bool),
		"tolist":       stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":        stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber":     stdlib.MakeToFunc(cty.Number),
		"toset":        stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":     stdlib.MakeToFunc(cty.String),
		"sensitive":    SensitiveFunc,
		"nonsensitive": NonsensitiveFunc,
		"issensitive":  IsSensitiveFunc,
	}
	// A template sees every function but the template functions
	// themselves, which would let a template render itself without end.
	inTemplate := maps.Clone(t)
	t["templatefile"] = files.templateFileFunc(inTemplate)
	t["templatestring"] = templateStringFunc(inTemplate)
	for name, f := range t {
		// try and can take expressions, not values; what they report
		// comes from functions already wrapped.
		if name != "try" && name != "can" {
			t[name] = redactingFunc(f)
		}
	}
	return t
}
