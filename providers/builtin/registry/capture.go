package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/plural"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

func captureSchema() *schema.Resource {
	attrs := locationAttrs(false)
	attrs["host"].ForceNew = true
	attrs["key"] = &schema.Attribute{Type: cty.String, Required: true,
		Description: "The key to capture: HKLM\\Software\\Vendor\\Product in the live registry; in a hive file, a path from its root, \\Vendor\\Product (\\ for the whole hive)."}
	attrs["recursive"] = &schema.Attribute{Type: cty.Bool, Optional: true,
		Description: "Capture the keys below key too (the default); false captures key's own values only."}
	attrs["file"] = &schema.Attribute{Type: cty.String, Required: true, ForceNew: true,
		Description: "Where the .reg file goes on the host, typically inside a replication set, e.g. \"/srv/repset/product.reg\"."}
	attrs["baseline"] = &schema.Attribute{Type: cty.String, Optional: true,
		Description: "A .reg file on the host holding default values: the capture keeps only the values that differ from it (a trimmed tuning file)."}
	attrs["encoding"] = &schema.Attribute{Type: cty.String, Optional: true,
		Description: "\"utf-16le\" (the default, as Windows writes .reg files) or \"utf-8\"."}
	attrs["sha256"] = &schema.Attribute{Type: cty.String, Computed: true, Description: "SHA-256 of the capture file, hex."}
	attrs["keys"] = &schema.Attribute{Type: cty.Number, Computed: true, Description: "How many keys the capture holds."}
	attrs["values"] = &schema.Attribute{Type: cty.Number, Computed: true, Description: "How many values the capture holds."}
	attrs["id"] = &schema.Attribute{Type: cty.String, Computed: true, Description: "HOST:FILE."}
	return &schema.Resource{
		Description: "A registry key captured into a .reg file on a host; plan lists what changed in the registry since the last capture, apply captures again.",
		Block:       &schema.Block{Attributes: attrs},
	}
}

func captureResource() *sdk.Resource {
	return &sdk.Resource{
		Schema:        captureSchema(),
		Validate:      validateCapture,
		CustomizePlan: planCapture,
		Read:          readCapture,
		Create:        writeCapture,
		Update:        writeCapture,
		Delete:        deleteCapture,
	}
}

func validateCapture(ctx context.Context, config cty.Value) providers.Diagnostics {
	diags := validateLocation(config, "key")
	diags = append(diags, absolutePath(config, "file")...)
	diags = append(diags, absolutePath(config, "baseline")...)
	if e := config.GetAttr("encoding"); e.IsKnown() && !e.IsNull() {
		if _, err := parseEncoding(e.AsString()); err != nil {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("encoding"), "Invalid encoding", "%s.", err))
		}
	}
	return diags
}

// capture is what the registry holds now, as the capture file would.
type capture struct {
	keys    []regtext.Key
	content []byte
}

func (c capture) attrs(v cty.Value) map[string]cty.Value {
	sum := sha256.Sum256(c.content)
	nkeys, nvalues := count(c.keys)
	return map[string]cty.Value{
		"sha256": cty.StringVal(hex.EncodeToString(sum[:])),
		"keys":   cty.NumberIntVal(int64(nkeys)),
		"values": cty.NumberIntVal(int64(nvalues)),
		"id":     captureID(v),
	}
}

func captureID(v cty.Value) cty.Value {
	h, f := v.GetAttr("host"), v.GetAttr("file")
	if !h.IsWhollyKnown() || h.IsNull() || !f.IsKnown() || f.IsNull() {
		return cty.UnknownVal(cty.String)
	}
	return cty.StringVal(h.GetAttr("name").AsString() + ":" + f.AsString())
}

// takeCapture exports the key v names, trims it by the baseline and
// encodes it.
func takeCapture(ctx context.Context, v cty.Value) (capture, providers.Diagnostics) {
	h, store, diags := open(v)
	if diags.HasErrors() {
		return capture{}, diags
	}
	defer h.Close()
	key := str(v, "key")
	keys, err := store.Export(ctx, key, boolOr(v, "recursive", true))
	if err != nil {
		return capture{}, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("key"), "Cannot capture the key",
			"Reading %s from %s: %s. Check key and hive.", key, store, err)}
	}
	if b := str(v, "baseline"); b != "" {
		base, err := readReg(ctx, h, b)
		if err != nil {
			return capture{}, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("baseline"), "Cannot read the baseline", "%s.", err)}
		}
		diags = warnings(base)
		keys = trim(keys, base.Keys)
	}
	enc, _ := parseEncoding(str(v, "encoding"))
	content, err := regtext.Encode(&regtext.Document{Header: regtext.Version5, Encoding: enc, Keys: keys})
	if err != nil {
		return capture{}, providers.Diagnostics{providers.Errorf("Cannot write the capture", "Encoding %s from %s: %s.", key, store, err)}
	}
	return capture{keys: keys, content: content}, diags
}

func planCapture(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
	computed := []string{"sha256", "keys", "values"}
	unknown := map[string]cty.Value{"id": captureID(p.Config)}
	for _, name := range computed {
		unknown[name] = cty.UnknownVal(p.Planned.GetAttr(name).Type())
	}
	if !p.Config.IsWhollyKnown() {
		p.Planned = sdk.SetAttrs(p.Planned, unknown)
		return nil
	}
	now, diags := takeCapture(ctx, p.Config)
	if diags.HasErrors() {
		return diags
	}
	attrs := now.attrs(p.Config)
	if !p.Prior.IsNull() && p.Prior.GetAttr("sha256").RawEquals(attrs["sha256"]) {
		p.Planned = sdk.SetAttrs(p.Planned, attrs)
		return diags
	}
	// A new capture is planned; what the registry holds at apply time is
	// what gets written, so its checksum is known only then.
	p.Planned = sdk.SetAttrs(p.Planned, unknown)
	_, nvalues := count(now.keys)
	if p.Prior.IsNull() {
		p.Description = fmt.Sprintf("captures %s in %s of %s", plural.Count(nvalues, "value"), plural.Count(len(now.keys), "key"), str(p.Config, "key"))
		return diags
	}
	p.Description = describeChange(ctx, p.Prior, now)
	return diags
}

// describeChange compares the last capture file with the registry now.
func describeChange(ctx context.Context, prior cty.Value, now capture) string {
	h, err := host.FromValue(prior.GetAttr("host"))
	if err != nil {
		return ""
	}
	defer h.Close()
	last, err := readReg(ctx, h, str(prior, "file"))
	if err != nil {
		return "the last capture cannot be read: " + err.Error()
	}
	changes := diffKeys(last.Keys, now.keys)
	if len(changes) == 0 {
		return "the same keys and values, written anew"
	}
	return summary(changes)
}

// readCapture refreshes from the capture file: gone when the file is.
func readCapture(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
	h, err := host.FromValue(state.GetAttr("host"))
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s.", err)}
	}
	defer h.Close()
	path := str(state, "file")
	b, err := h.ReadFile(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		return cty.NullVal(state.Type()), nil
	}
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot read the capture file", "%s.", err)}
	}
	c := capture{content: b}
	if doc, err := regtext.Decode(path, b); err == nil {
		c.keys = doc.Keys
	}
	return sdk.SetAttrs(state, c.attrs(state)), nil
}

func writeCapture(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	v := req.Planned
	c, diags := takeCapture(ctx, v)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	h, err := host.FromValue(v.GetAttr("host"))
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s.", err)}
	}
	defer h.Close()
	if err := h.WriteFile(ctx, str(v, "file"), bytes.NewReader(c.content), 0o644); err != nil {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot write the capture file", "%s.", err)}
	}
	return sdk.SetAttrs(v, c.attrs(v)), diags
}

func deleteCapture(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
	h, err := host.FromValue(req.Prior.GetAttr("host"))
	if err != nil {
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s.", err)}
	}
	defer h.Close()
	if err := h.Remove(ctx, str(req.Prior, "file")); err != nil {
		return providers.Diagnostics{providers.Errorf("Cannot delete the capture file", "%s.", err)}
	}
	return nil
}
