package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/registry/regstore"
	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/zclconf/go-cty/cty"
)

// locationAttrs are the arguments that name a registry and a key in it,
// shared by the resource and the actions.
func locationAttrs(forceNew bool) map[string]*schema.Attribute {
	return map[string]*schema.Attribute{
		"host": {Type: host.Type, Required: true, ForceNew: forceNew,
			Description: "The host whose registry it is, e.g. host.fs1."},
		"hive": {Type: cty.String, Optional: true,
			Description: "The absolute path of a hive file on the host (e.g. \"/Windows/System32/config/SOFTWARE\"), or \"live\" (the default) for the running registry of the Windows machine Drover runs on."},
		"prefix": {Type: cty.String, Optional: true,
			Description: "For a hive file: the registry path it is loaded at, which .reg files name its keys by, e.g. \"HKEY_LOCAL_MACHINE\\\\SOFTWARE\". Without it keys are named from the hive's root: [\\Vendor\\Product]."},
	}
}

func str(v cty.Value, name string) string {
	a := v.GetAttr(name)
	if a.IsNull() || !a.IsKnown() {
		return ""
	}
	return a.AsString()
}

func boolOr(v cty.Value, name string, def bool) bool {
	a := v.GetAttr(name)
	if a.IsNull() || !a.IsKnown() {
		return def
	}
	return a.True()
}

func options(v cty.Value) regstore.Options {
	hive := str(v, "hive")
	if hive == "" {
		hive = regstore.Live
	}
	return regstore.Options{Hive: hive, Prefix: str(v, "prefix")}
}

// validateLocation checks the location arguments that are known.
func validateLocation(v cty.Value, keyAttr string) providers.Diagnostics {
	var diags providers.Diagnostics
	if h := v.GetAttr("host"); h.IsWhollyKnown() {
		if _, err := host.ConfigFromValue(h); err != nil {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s.", err))
		}
	}
	hive, prefix := v.GetAttr("hive"), v.GetAttr("prefix")
	if !hive.IsKnown() || !prefix.IsKnown() {
		return diags
	}
	opts := options(v)
	if opts.Hive != regstore.Live && !strings.HasPrefix(opts.Hive, "/") {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("hive"), "Invalid hive",
			"hive %q must be \"live\" or the absolute path of a hive file on the host, like \"/Windows/System32/config/SOFTWARE\".", opts.Hive))
	}
	if opts.Hive == regstore.Live && opts.Prefix != "" {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("prefix"), "Prefix without a hive file",
			"prefix names where a hive file is loaded; the live registry names keys from their root key. Remove prefix or set hive."))
	}
	if keyAttr != "" {
		if k := v.GetAttr(keyAttr); k.IsKnown() && !k.IsNull() {
			if err := opts.CheckKey(k.AsString()); err != nil {
				diags = append(diags, providers.AttrErrorf(cty.GetAttrPath(keyAttr), "Invalid key", "%s.", err))
			}
		}
	}
	return diags
}

// absolutePath checks an optional path attribute on the host.
func absolutePath(v cty.Value, name string) providers.Diagnostics {
	a := v.GetAttr(name)
	if !a.IsKnown() || a.IsNull() {
		return nil
	}
	if s := a.AsString(); !strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") {
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath(name), "Invalid path",
			"%s %q must be the absolute path of a file on the host, like \"/srv/repset/product.reg\".", name, s)}
	}
	return nil
}

// open reaches the host and the registry v names. The caller closes the
// host.
func open(v cty.Value) (host.Host, regstore.Store, providers.Diagnostics) {
	hc, err := host.ConfigFromValue(v.GetAttr("host"))
	if err != nil {
		return nil, nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s.", err)}
	}
	h, err := hc.Open()
	if err != nil {
		return nil, nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s.", err)}
	}
	local := (hc.Transport == "" || hc.Transport == "local") && hc.Root == ""
	s, err := regstore.Open(h, local, options(v))
	if err != nil {
		h.Close()
		return nil, nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("hive"), "Cannot open the registry", "%s.", err)}
	}
	return h, s, nil
}

// readReg reads and decodes a .reg file on a host; errors name the host,
// the file and the line.
func readReg(ctx context.Context, h host.Host, path string) (*regtext.Document, error) {
	b, err := h.ReadFile(ctx, path)
	if err != nil {
		return nil, err
	}
	doc, err := regtext.Decode(fmt.Sprintf("%s on host %q", path, h.Name()), b)
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// warnings are the lines of a .reg file that Decode read, but perhaps not
// as their writer meant, for the user to check.
func warnings(doc *regtext.Document) providers.Diagnostics {
	var diags providers.Diagnostics
	for _, w := range doc.Warnings {
		diags = append(diags, providers.Diagnostic{Severity: providers.Warning, Summary: "Check the .reg file", Detail: w.String() + "."})
	}
	return diags
}

func parseEncoding(s string) (regtext.Encoding, error) {
	switch strings.ToLower(s) {
	case "", "utf-16le", "utf16le", "unicode":
		return regtext.UTF16LE, nil
	case "utf-8", "utf8":
		return regtext.UTF8, nil
	}
	return 0, fmt.Errorf("encoding %q is not \"utf-16le\" (as Windows writes .reg files) or \"utf-8\"", s)
}

func count(keys []regtext.Key) (nkeys, nvalues int) {
	for _, k := range keys {
		nkeys++
		nvalues += len(k.Values)
	}
	return nkeys, nvalues
}
