package core

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

const defaultMode = "0644"

// contentAttrs are the ways to give a file's content; exactly one is set.
var contentAttrs = []string{"content", "sensitive_content", "content_base64"}

var fileSchema = &schema.Resource{
	Description: "A regular file on a host, replaced atomically whenever its content or mode differs from the configuration.",
	Block: &schema.Block{Attributes: map[string]*schema.Attribute{
		"host": {Type: host.Type, Required: true, ForceNew: true,
			Description: "The host the file lives on, e.g. host.fs1."},
		"path": {Type: cty.String, Required: true, ForceNew: true,
			Description: "Absolute path of the file on the host; missing parent folders are created."},
		"content": {Type: cty.String, Optional: true,
			Description: "The file's content as text, e.g. file(\"scripts/failover.sh\")."},
		"sensitive_content": {Type: cty.String, Optional: true, Sensitive: true,
			Description: "Like content, but never shown in plans or logs."},
		"content_base64": {Type: cty.String, Optional: true,
			Description: "The file's content, base64-encoded, for binary files: filebase64(\"export.reg\")."},
		"mode": {Type: cty.String, Optional: true, Computed: true,
			Description: "Permission bits in octal, e.g. \"0755\"; \"0644\" when not set."},
		"sha256": {Type: cty.String, Computed: true, Description: "SHA-256 of the content, hex."},
		"size":   {Type: cty.Number, Computed: true, Description: "Size of the content in bytes."},
		"id":     {Type: cty.String, Computed: true, Description: "HOST:PATH."},
	}},
}

func fileResource() *sdk.Resource {
	return &sdk.Resource{
		Schema:        fileSchema,
		Validate:      validateFile,
		CustomizePlan: planFile,
		Read:          readFile,
		Create:        writeFile,
		Update:        writeFile,
		Delete:        deleteFile,
		Import:        importFile,
	}
}

func validateFile(ctx context.Context, config cty.Value) providers.Diagnostics {
	var diags providers.Diagnostics
	if h := config.GetAttr("host"); h.IsWhollyKnown() {
		if c, err := host.ConfigFromValue(h); err != nil {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s.", err))
		} else if hc, err := c.Open(); err != nil {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s.", err))
		} else {
			hc.Close()
		}
	}
	if p := config.GetAttr("path"); p.IsKnown() && !p.IsNull() {
		switch s := p.AsString(); {
		case !strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/"):
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("path"), "Invalid file path",
				"The path %q must be an absolute path of a file on the host, like \"/etc/motd\".", s))
		case slices.Contains(strings.Split(s, "/"), ".."):
			// Known now, so refused now: at apply, the host's confinement
			// would refuse it only after other changes had run.
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("path"), "Invalid file path",
				"The path %q climbs with \"..\"; write the absolute path it means, like \"/etc/motd\".", s))
		}
	}
	set, unknown := 0, 0
	for _, name := range contentAttrs {
		v := config.GetAttr(name)
		switch {
		case !v.IsKnown():
			unknown++
		case !v.IsNull():
			set++
			if set > 1 {
				diags = append(diags, providers.AttrErrorf(cty.GetAttrPath(name), "Conflicting content arguments",
					"Only one of content, sensitive_content and content_base64 may be set."))
			}
		}
	}
	if set == 0 && unknown == 0 {
		diags = append(diags, providers.Errorf("Missing file content",
			"Set one of content, sensitive_content or content_base64 (content = \"\" for an empty file)."))
	}
	if v := config.GetAttr("content_base64"); v.IsKnown() && !v.IsNull() {
		if _, err := base64.StdEncoding.DecodeString(v.AsString()); err != nil {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("content_base64"), "Invalid base64",
				"content_base64 is not valid base64: %s.", err))
		}
	}
	if v := config.GetAttr("mode"); v.IsKnown() && !v.IsNull() {
		if _, err := parseMode(v.AsString()); err != nil {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("mode"), "Invalid file mode", "%s.", err))
		}
	}
	return diags
}

// parseMode reads octal permission bits such as "0644" or "4755".
func parseMode(s string) (fs.FileMode, error) {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 || len(s) < 3 {
		return 0, fmt.Errorf("the mode %q is not octal permission bits like \"0644\"", s)
	}
	m := fs.FileMode(n & 0o777)
	if n&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if n&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if n&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m, nil
}

func formatMode(m fs.FileMode) string {
	n := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return fmt.Sprintf("%04o", n)
}

// content returns the bytes v's content attributes describe; ok is false
// when they are not known yet.
func content(v cty.Value) (b []byte, ok bool) {
	for _, name := range contentAttrs {
		a := v.GetAttr(name)
		if !a.IsKnown() {
			return nil, false
		}
		if a.IsNull() {
			continue
		}
		if name == "content_base64" {
			b, err := base64.StdEncoding.DecodeString(a.AsString())
			return b, err == nil
		}
		return []byte(a.AsString()), true
	}
	return nil, true
}

func fileID(v cty.Value) cty.Value {
	h, p := v.GetAttr("host"), v.GetAttr("path")
	if !h.IsKnown() || h.IsNull() || !p.IsKnown() {
		return cty.UnknownVal(cty.String)
	}
	name := h.GetAttr("name")
	if !name.IsKnown() || name.IsNull() || p.IsNull() {
		return cty.UnknownVal(cty.String)
	}
	return cty.StringVal(name.AsString() + ":" + p.AsString())
}

// computed sets the attributes derived from content and configuration.
func computed(v cty.Value) cty.Value {
	attrs := map[string]cty.Value{
		"id":     fileID(v),
		"sha256": cty.UnknownVal(cty.String),
		"size":   cty.UnknownVal(cty.Number),
	}
	if b, ok := content(v); ok {
		sum := sha256.Sum256(b)
		attrs["sha256"] = cty.StringVal(hex.EncodeToString(sum[:]))
		attrs["size"] = cty.NumberIntVal(int64(len(b)))
	}
	if v.GetAttr("mode").IsNull() {
		attrs["mode"] = cty.StringVal(defaultMode)
	}
	return sdk.SetAttrs(v, attrs)
}

func planFile(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
	// The mode defaults from the configuration, not from the prior state:
	// removing mode from the configuration restores 0644.
	if p.Config.GetAttr("mode").IsNull() {
		p.Planned = sdk.SetAttrs(p.Planned, map[string]cty.Value{"mode": cty.NullVal(cty.String)})
	}
	p.Planned = computed(p.Planned)
	return nil
}

func openHost(v cty.Value) (host.Host, providers.Diagnostics) {
	h, err := host.FromValue(v.GetAttr("host"))
	if err != nil {
		return nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s.", err)}
	}
	return h, nil
}

func fileErr(summary string, err error) providers.Diagnostics {
	return providers.Diagnostics{providers.Errorf(summary, "%s.", err)}
}

// readFile refreshes state from the host: gone when the file is, and the
// content, mode, size and checksum as found. The content attribute in use
// takes the file's content only when it changed, so that an unchanged
// file reads back exactly as it was written.
func readFile(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
	h, diags := openHost(state)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	path := state.GetAttr("path").AsString()
	fi, err := h.Lstat(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		return cty.NullVal(state.Type()), nil
	}
	if err != nil {
		return cty.NilVal, fileErr("Cannot read file", err)
	}
	if !fi.Mode().IsRegular() {
		return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("path"), "Not a regular file",
			"%s on host %q is a %s; a file resource manages regular files only. Remove it or choose another path.",
			path, h.Name(), host.ModeKind(fi.Mode()))}
	}
	b, err := h.ReadFile(ctx, path)
	if err != nil {
		return cty.NilVal, fileErr("Cannot read file", err)
	}
	sum := sha256.Sum256(b)
	attrs := map[string]cty.Value{
		"sha256": cty.StringVal(hex.EncodeToString(sum[:])),
		"size":   cty.NumberIntVal(int64(len(b))),
		"id":     fileID(state),
		"mode":   cty.StringVal(formatMode(fi.Mode())),
	}
	if m := state.GetAttr("mode"); !m.IsNull() {
		if want, err := parseMode(m.AsString()); err == nil && want == fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) {
			attrs["mode"] = m
		}
	}
	if !attrs["sha256"].RawEquals(state.GetAttr("sha256")) {
		switch {
		case !state.GetAttr("sensitive_content").IsNull():
			attrs["sensitive_content"] = cty.StringVal(string(b))
		case !state.GetAttr("content_base64").IsNull() || !utf8.Valid(b):
			attrs["content_base64"] = cty.StringVal(base64.StdEncoding.EncodeToString(b))
			attrs["content"] = cty.NullVal(cty.String)
		default:
			attrs["content"] = cty.StringVal(string(b))
		}
	}
	return sdk.SetAttrs(state, attrs), nil
}

func writeFile(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	v := computed(req.Planned)
	b, ok := content(v)
	if !ok {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("File content not known",
			"The content of %s is still unknown at apply time.", v.GetAttr("path").AsString())}
	}
	mode, err := parseMode(v.GetAttr("mode").AsString())
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("mode"), "Invalid file mode", "%s.", err)}
	}
	h, diags := openHost(v)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	path := v.GetAttr("path").AsString()
	if !req.Prior.IsNull() && req.Prior.GetAttr("sha256").RawEquals(v.GetAttr("sha256")) {
		err = h.Chmod(ctx, path, mode)
	} else {
		err = h.WriteFile(ctx, path, bytes.NewReader(b), mode)
	}
	if err != nil {
		return cty.NilVal, fileErr("Cannot write file", err)
	}
	return v, nil
}

func deleteFile(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
	h, diags := openHost(req.Prior)
	if diags.HasErrors() {
		return diags
	}
	defer h.Close()
	if err := h.Remove(ctx, req.Prior.GetAttr("path").AsString()); err != nil {
		return fileErr("Cannot delete file", err)
	}
	return nil
}

// importID is the import ID of a file: the host as its host block gives it
// and the path, e.g. {"host":{"name":"fs1","root":"sim/fs1"},"path":"/etc/motd"}.
type importID struct {
	Host struct {
		Name      string `json:"name"`
		Transport string `json:"transport"`
		Address   string `json:"address"`
		Root      string `json:"root"`
		User      string `json:"user"`
		Port      int    `json:"port"`
		Netns     string `json:"netns"`
		NoAgent   bool   `json:"no_agent"`

		IdentityFile string `json:"identity_file"`
		HostKey      string `json:"host_key"`
		KnownHosts   string `json:"known_hosts"`
	} `json:"host"`
	Path string `json:"path"`
}

func importFile(ctx context.Context, id string) (cty.Value, providers.Diagnostics) {
	var in importID
	dec := json.NewDecoder(strings.NewReader(id))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.Host.Name == "" || in.Path == "" {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Invalid import ID",
			`A file is imported by HOST:PATH, HOST a host block of the configuration (fs1:/etc/motd), or by the JSON form of its host and path, e.g. {"host":{"name":"fs1","root":"sim/fs1"},"path":"/etc/motd"}; %q is neither.`, id)}
	}
	hc := host.Config(in.Host)
	attrs := map[string]cty.Value{}
	for name, a := range fileSchema.Block.Attributes {
		attrs[name] = cty.NullVal(a.Type)
	}
	attrs["host"] = hc.Value()
	attrs["path"] = cty.StringVal(in.Path)
	return cty.ObjectVal(attrs), nil
}
