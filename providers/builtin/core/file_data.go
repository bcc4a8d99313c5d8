package core

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"unicode/utf8"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

var fileDataSchema = &schema.Resource{
	Description: "Reads a regular file on a host, e.g. a standby's hostname or a capture's checksum, for use elsewhere in the configuration.",
	Block: &schema.Block{Attributes: map[string]*schema.Attribute{
		"host": {Type: host.Type, Required: true, Description: "The host the file lives on, e.g. host.fs1."},
		"path": {Type: cty.String, Required: true, Description: "Absolute path of the file on the host."},
		"content": {Type: cty.String, Computed: true,
			Description: "The content as text; null when it is not UTF-8 (use content_base64)."},
		"content_base64": {Type: cty.String, Computed: true, Description: "The content, base64-encoded."},
		"mode":           {Type: cty.String, Computed: true, Description: "Permission bits in octal, e.g. \"0644\"."},
		"sha256":         {Type: cty.String, Computed: true, Description: "SHA-256 of the content, hex."},
		"size":           {Type: cty.Number, Computed: true, Description: "Size in bytes."},
		"id":             {Type: cty.String, Computed: true, Description: "HOST:PATH."},
	}},
}

func fileDataSource() *sdk.DataSource {
	return &sdk.DataSource{Schema: fileDataSchema, Read: readFileData}
}

// readFileData reads the file the configuration names; a missing file or
// one that is not regular is an error, since the configuration relies on it.
func readFileData(ctx context.Context, config cty.Value) (cty.Value, providers.Diagnostics) {
	h, diags := openHost(config)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	path := config.GetAttr("path").AsString()
	fi, err := h.Lstat(ctx, path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("path"), "No such file",
			"%s does not exist on host %q.", path, h.Name())}
	case err != nil:
		return cty.NilVal, fileErr("Cannot read file", err)
	case !fi.Mode().IsRegular():
		return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("path"), "Not a regular file",
			"%s on host %q is a %s, not a regular file.", path, h.Name(), host.ModeKind(fi.Mode()))}
	}
	b, err := h.ReadFile(ctx, path)
	if err != nil {
		return cty.NilVal, fileErr("Cannot read file", err)
	}
	text := cty.NullVal(cty.String)
	if utf8.Valid(b) {
		text = cty.StringVal(string(b))
	}
	sum := sha256.Sum256(b)
	return sdk.SetAttrs(config, map[string]cty.Value{
		"content":        text,
		"content_base64": cty.StringVal(base64.StdEncoding.EncodeToString(b)),
		"mode":           cty.StringVal(formatMode(fi.Mode())),
		"sha256":         cty.StringVal(hex.EncodeToString(sum[:])),
		"size":           cty.NumberIntVal(int64(len(b))),
		"id":             fileID(config),
	}), nil
}
