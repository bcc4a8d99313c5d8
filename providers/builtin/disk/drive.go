package disk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/disk/drives"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

var partitionType = cty.Object(map[string]cty.Type{
	"number": cty.Number, "start": cty.Number, "size": cty.Number, "type": cty.String, "name": cty.String,
})

var driveSchema = &schema.Resource{
	Description: "A drive: an image file, created sparse at a size, or a block device that must exist.",
	Block: &schema.Block{Attributes: map[string]*schema.Attribute{
		"host": {Type: host.Type, Required: true, ForceNew: true, Description: "The host of the drive, e.g. host.fs1."},
		"path": {Type: cty.String, Required: true, ForceNew: true,
			Description: "Absolute path of the image file or block device, e.g. \"/dev/sdb\" or \"/srv/dpsr.img\"."},
		"size": {Type: cty.String, Optional: true,
			Description: "Size of an image file, e.g. \"4GiB\": it is created sparse at that size when missing, and grown when larger. Leave unset for a device."},
		"kind":            {Type: cty.String, Computed: true, Description: "\"image\" or \"device\"."},
		"size_bytes":      {Type: cty.Number, Computed: true, Description: "Size in bytes as observed."},
		"sector_size":     {Type: cty.Number, Computed: true, Description: "Logical sector size in bytes."},
		"partition_table": {Type: cty.String, Computed: true, Description: "\"gpt\", \"mbr\" or \"none\"."},
		"partitions": {Type: cty.List(partitionType), Computed: true,
			Description: "The partitions: number, start and size in bytes, type, name."},
		"mounted": {Type: cty.Bool, Computed: true,
			Description: "Whether a file system on it (or on a loop device backed by the image) is mounted."},
		"delete_on_destroy": {Type: cty.Bool, Optional: true,
			Description: "Delete the image on destroy, if Drover created it (a device never is). By default a destroy forgets the drive and leaves the image, which holds a server's data, on the host."},
		"created": {Type: cty.Bool, Computed: true, Description: "Whether Drover created the image (and may delete it on destroy, with delete_on_destroy)."},
		"id":      {Type: cty.String, Computed: true, Description: "HOST:PATH."},
	}},
}

func driveResource(planned *plannedImages) *sdk.Resource {
	return &sdk.Resource{
		Schema:   driveSchema,
		Validate: validateDrive,
		CustomizePlan: func(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
			return planDrive(ctx, p, planned)
		},
		Read:           readDrive,
		Create:         createDrive,
		Update:         updateDrive,
		Delete:         deleteDrive,
		DescribeDelete: describeDriveDelete,
	}
}

func validateHost(config cty.Value) providers.Diagnostics {
	h := config.GetAttr("host")
	if !h.IsWhollyKnown() || h.IsNull() {
		return nil
	}
	c, err := host.ConfigFromValue(h)
	if err == nil {
		var hc host.Host
		if hc, err = c.Open(); err == nil {
			hc.Close()
		}
	}
	if err != nil {
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s.", err)}
	}
	return nil
}

func validatePath(config cty.Value, attr, example string) providers.Diagnostics {
	p := config.GetAttr(attr)
	if !p.IsKnown() || p.IsNull() {
		return nil
	}
	if s := p.AsString(); !path.IsAbs(s) || path.Clean(s) != s {
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath(attr), "Invalid drive path",
			"%s = %q must be a clean absolute path of an image file or block device, like %q.", attr, s, example)}
	}
	return nil
}

func validateDrive(ctx context.Context, config cty.Value) providers.Diagnostics {
	diags := validateHost(config)
	diags = append(diags, validatePath(config, "path", "/srv/dpsr.img")...)
	if s := config.GetAttr("size"); s.IsKnown() && !s.IsNull() {
		if _, err := parseSize(s.AsString()); err != nil {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("size"), "Invalid size", "%s.", err))
		}
	}
	return diags
}

func planDrive(ctx context.Context, p *sdk.Plan, planned *plannedImages) providers.Diagnostics {
	id := hostPathID(p.Planned, "path")
	attrs := map[string]cty.Value{"id": id}
	if !p.Prior.IsNull() && !p.Planned.GetAttr("size").RawEquals(p.Prior.GetAttr("size")) {
		attrs["size_bytes"] = cty.UnknownVal(cty.Number)
	}
	if s := p.Planned.GetAttr("size"); id.IsKnown() && s.IsKnown() && !s.IsNull() {
		// An image created or grown to this size (the apply refuses to
		// shrink one): what a copy to or from it can count on.
		if size, err := parseSize(s.AsString()); err == nil {
			planned.add(id.AsString(), size)
		}
	}
	p.Planned = sdk.SetAttrs(p.Planned, attrs)
	return nil
}

func hostPathID(v cty.Value, attr string) cty.Value {
	h, p := v.GetAttr("host"), v.GetAttr(attr)
	if !h.IsWhollyKnown() || h.IsNull() || !p.IsKnown() || p.IsNull() {
		return cty.UnknownVal(cty.String)
	}
	c, err := host.ConfigFromValue(h)
	if err != nil {
		return cty.UnknownVal(cty.String)
	}
	return cty.StringVal(c.Name + ":" + p.AsString())
}

func openHost(v cty.Value) (host.Host, providers.Diagnostics) {
	h, err := host.FromValue(v.GetAttr("host"))
	if err != nil {
		return nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s.", err)}
	}
	return h, nil
}

// driveAttrs are the observed attributes of d.
func driveAttrs(d *drives.Drive) map[string]cty.Value {
	var parts []cty.Value
	for _, p := range d.Partitions {
		parts = append(parts, cty.ObjectVal(map[string]cty.Value{
			"number": cty.NumberIntVal(int64(p.Number)), "start": cty.NumberIntVal(p.Start), "size": cty.NumberIntVal(p.Size),
			"type": cty.StringVal(p.Type), "name": cty.StringVal(p.Name),
		}))
	}
	list := cty.ListValEmpty(partitionType)
	if len(parts) > 0 {
		list = cty.ListVal(parts)
	}
	table := d.Table
	if table == "" {
		table = "none"
	}
	return map[string]cty.Value{
		"kind": cty.StringVal(string(d.Kind)), "size_bytes": cty.NumberIntVal(d.Size),
		"sector_size": cty.NumberIntVal(d.SectorSize), "partition_table": cty.StringVal(table),
		"partitions": list, "mounted": cty.BoolVal(len(d.Mounts) > 0),
	}
}

func readDrive(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
	h, diags := openHost(state)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	d, err := drives.Probe(ctx, h, state.GetAttr("path").AsString())
	if errors.Is(err, drives.ErrNotFound) {
		return cty.NullVal(state.Type()), nil
	}
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot read drive", "%s.", err)}
	}
	return sdk.SetAttrs(state, driveAttrs(d)), nil
}

func createDrive(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	v := req.Planned
	h, diags := openHost(v)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	p := v.GetAttr("path").AsString()
	created := false
	d, err := drives.Probe(ctx, h, p)
	switch {
	case errors.Is(err, drives.ErrNotFound) && v.GetAttr("size").IsNull():
		return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("path"), "Missing drive",
			"%s does not exist on host %q. Attach the device, correct the path, or set size to create an image file there.", p, h.Name())}
	case errors.Is(err, drives.ErrNotFound):
		size, _ := parseSize(v.GetAttr("size").AsString())
		if err := createImage(ctx, h, p, size); err != nil {
			return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot create image", "%s.", err)}
		}
		created = true
		if d, err = drives.Probe(ctx, h, p); err != nil {
			return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot read drive", "%s.", err)}
		}
	case err != nil:
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot read drive", "%s.", err)}
	default:
		if diags := checkSize(v, d); diags.HasErrors() {
			return cty.NilVal, diags
		}
	}
	attrs := driveAttrs(d)
	attrs["created"] = cty.BoolVal(created)
	attrs["id"] = hostPathID(v, "path")
	return sdk.SetAttrs(v, attrs), nil
}

// checkSize refuses a configured size that the existing drive d cannot
// take: a device's size is what it is; an image only grows.
func checkSize(v cty.Value, d *drives.Drive) providers.Diagnostics {
	s := v.GetAttr("size")
	if s.IsNull() {
		return nil
	}
	size, _ := parseSize(s.AsString())
	switch {
	case d.Kind == drives.Device && size != d.Size:
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("size"), "Size of a device",
			"%s is a device of %d bytes; its size cannot be set. Remove size from the configuration.", d.Path, d.Size)}
	case size < d.Size:
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("size"), "Image would shrink",
			"%s holds %d bytes; shrinking it to %d would cut off data. Drover only grows images: set size to at least %s.", d.Path, d.Size, size, formatBytes(d.Size))}
	}
	return nil
}

func createImage(ctx context.Context, h host.Host, p string, size int64) error {
	if err := h.MkdirAll(ctx, path.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := h.OpenFile(ctx, p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		h.Remove(ctx, p)
	}
	return err
}

func updateDrive(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	v := req.Planned
	h, diags := openHost(v)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	p := v.GetAttr("path").AsString()
	d, err := drives.Probe(ctx, h, p)
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot read drive", "%s.", err)}
	}
	if diags := checkSize(v, d); diags.HasErrors() {
		return cty.NilVal, diags
	}
	if s := v.GetAttr("size"); !s.IsNull() && d.Kind == drives.Image {
		size, _ := parseSize(s.AsString())
		if size > d.Size {
			f, err := h.OpenFile(ctx, p, os.O_RDWR, 0)
			if err == nil {
				err = f.Truncate(size)
				f.Close()
			}
			if err != nil {
				return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot grow image", "%s.", err)}
			}
			if d, err = drives.Probe(ctx, h, p); err != nil {
				return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot read drive", "%s.", err)}
			}
		}
	}
	return sdk.SetAttrs(v, driveAttrs(d)), nil
}

// deletesImage says whether destroying the drive v deletes its image: one
// Drover created, with delete_on_destroy. Otherwise the destroy forgets it.
func deletesImage(v cty.Value) bool {
	return v.GetAttr("created").True() && v.GetAttr("delete_on_destroy").True()
}

// describeDriveDelete says in the plan whether a destroy deletes the image
// or leaves it, with its size.
func describeDriveDelete(ctx context.Context, prior cty.Value) (string, providers.Diagnostics) {
	if prior.GetAttr("kind").AsString() != string(drives.Image) {
		return "", nil
	}
	h, diags := openHost(prior)
	if diags.HasErrors() {
		return "", nil
	}
	defer h.Close()
	p := prior.GetAttr("path").AsString()
	fi, err := h.Lstat(ctx, p)
	if err != nil {
		return "", nil
	}
	switch {
	case deletesImage(prior):
		return fmt.Sprintf("deletes 1 file:\n%s (%s)", p, formatBytes(fi.Size())), nil
	case prior.GetAttr("created").True():
		return fmt.Sprintf("the image %s (%s) stays on the host, forgotten; delete_on_destroy = true deletes it", p, formatBytes(fi.Size())), nil
	}
	return fmt.Sprintf("the image %s (%s) stays on the host, forgotten; Drover did not create it and never deletes it", p, formatBytes(fi.Size())), nil
}

func deleteDrive(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
	if !deletesImage(req.Prior) {
		return nil
	}
	h, diags := openHost(req.Prior)
	if diags.HasErrors() {
		return diags
	}
	defer h.Close()
	p := req.Prior.GetAttr("path").AsString()
	d, err := drives.Probe(ctx, h, p)
	if errors.Is(err, drives.ErrNotFound) {
		return nil
	}
	if err != nil {
		return providers.Diagnostics{providers.Errorf("Cannot read drive", "%s.", err)}
	}
	if why := d.InUse(); why != "" {
		return providers.Diagnostics{providers.Errorf("Drive in use",
			"The image %s cannot be deleted: %s. Unmount and detach it first.", p, strings.TrimPrefix(why, "it "))}
	}
	if err := h.Remove(ctx, p); err != nil {
		return providers.Diagnostics{providers.Errorf("Cannot delete image", "%s.", err)}
	}
	return nil
}
