package disk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/disk/drives"
	"github.com/drover-dr/drover/providers/builtin/vm/guestdisk"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// copyComputed are the attributes a copy changes; a plan that copies
// leaves them unknown.
var copyComputed = map[string]cty.Type{
	"last_copy_at": cty.String, "generation": cty.Number, "bytes_copied": cty.Number,
	"blocks_changed": cty.Number, "source_digest": cty.String, "snapshot_used": cty.String,
}

// deviceManifests is where the manifest of a device target lives.
const deviceManifests = "/var/lib/drover/drive_copy"

var copySchema = &schema.Resource{
	Description: "Keeps target a block-identical copy of source: a full copy first, then only the blocks that changed.",
	Block: &schema.Block{Attributes: map[string]*schema.Attribute{
		"host": {Type: host.Type, Required: true, ForceNew: true, Description: "The host of both drives, e.g. host.fs1."},
		"source": {Type: cty.String, Required: true,
			Description: "The drive to copy: a block device or image file, e.g. \"/dev/sda\"."},
		"target": {Type: cty.String, Required: true, ForceNew: true,
			Description: "The backup drive: a block device or image file at least as large as the source."},
		"block_size": {Type: cty.Number, Optional: true, Computed: true,
			Description: "Bytes per block of change detection, a multiple of 512; 65536 when not set."},
		"partitions": {Type: cty.List(cty.Number), Optional: true,
			Description: "Copy only these partitions (by number) and everything outside all partitions (the partition tables, boot code)."},
		"verify": {Type: cty.String, Optional: true, Computed: true,
			Description: "true: read back the written blocks and compare; \"full\": read back the whole target; false (default): no verify."},
		"quiesce": {Type: cty.String, Optional: true,
			Description: "Wait until the source has not been written for this long before copying, e.g. \"5s\"."},
		"checkpoint": {Type: cty.String, Optional: true,
			Description: "How much a full copy writes between checkpoints, e.g. \"256MiB\" (1GiB when not set): an interrupted first copy goes on from its last checkpoint."},
		"snapshot": {Type: cty.String, Optional: true, Computed: true,
			Description: "How to get a point-in-time view of a live source: auto (default), none, reflink, btrfs, fsfreeze, passes or guest (source_guest's hypervisor holds the disk still)."},
		"source_guest": {Type: cty.DynamicPseudoType, Optional: true,
			Description: "The vm_guest whose disk source is, e.g. vm_guest.fs1: while it runs, the copy reads a snapshot of the disk its QEMU takes (fs-freeze by its guest agent, if any) and the guest writes on to an overlay committed back after the copy."},
		"hidden": {Type: cty.Bool, Optional: true, Computed: true,
			Description: "Refuse a mounted or held target and keep it read-only between copies (BLKROSET, or mode 0400 for an image); true when not set."},
		"refresh": {Type: cty.String, Optional: true, Computed: true,
			Description: "How plan finds what changed: \"full\" (default) hashes the source; \"quick\" only asks whether it was written."},
		"manifest": {Type: cty.String, Optional: true, Computed: true,
			Description: "Where the per-block manifest lives: beside an image target (TARGET.blocks), under " + deviceManifests + " for a device."},
		"last_copy_at":   {Type: cty.String, Computed: true, Description: "When the last copy finished (RFC 3339)."},
		"generation":     {Type: cty.Number, Computed: true, Description: "How many complete copies the target has held."},
		"bytes_copied":   {Type: cty.Number, Computed: true, Description: "Bytes the last copy wrote to the target (of a changed block, the 4 KiB pieces that differed)."},
		"blocks_changed": {Type: cty.Number, Computed: true, Description: "Blocks the last copy found changed."},
		"source_digest":  {Type: cty.String, Computed: true, Description: "Digest of the per-block sums of the copied source."},
		"snapshot_used":  {Type: cty.String, Computed: true, Description: "The point-in-time method the last copy used, and why."},
		"delete_on_destroy": {Type: cty.Bool, Optional: true,
			Description: "Delete the manifest and undo journal on destroy. By default a destroy forgets the copy and leaves them, and the target, on the host."},
		"id": {Type: cty.String, Computed: true, Description: "HOST:TARGET."},
	}},
}

func copyResource(planned *plannedImages) *sdk.Resource {
	return &sdk.Resource{
		Schema:   copySchema,
		Validate: validateCopy,
		CustomizePlan: func(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
			return planCopy(ctx, p, planned)
		},
		Read:           readCopy,
		Create:         applyCopy,
		Update:         applyCopy,
		Delete:         deleteCopy,
		DescribeDelete: describeCopyDelete,
	}
}

// copyConfig is a drive_copy's configuration in Go form: the request of
// the op disk.copy, with exported fields for gob.
type copyConfig struct {
	Source, Target, Manifest string
	BlockSize                int64
	Partitions               []int
	Verify                   blocks.Verify
	Quiesce                  time.Duration
	Checkpoint               int64
	Snapshot                 drives.Method
	Guest                    *guestdisk.Guest
	Hidden, Quick            bool
}

func validateCopy(ctx context.Context, config cty.Value) providers.Diagnostics {
	diags := validateHost(config)
	diags = append(diags, validatePath(config, "source", "/dev/sda")...)
	diags = append(diags, validatePath(config, "target", "/dev/sdb")...)
	diags = append(diags, validatePath(config, "manifest", "/var/lib/drover/dpsr.blocks")...)
	s, t := config.GetAttr("source"), config.GetAttr("target")
	if s.IsKnown() && t.IsKnown() && !s.IsNull() && !t.IsNull() && s.Equals(t).True() {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("target"), "Target is the source",
			"source and target are both %s; the backup must be another drive.", s.AsString()))
	}
	if v := config.GetAttr("block_size"); v.IsKnown() && !v.IsNull() {
		n, acc := v.AsBigFloat().Int64()
		if acc != 0 || n < 512 || n > 64<<20 || n%512 != 0 {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("block_size"), "Invalid block size",
				"block_size = %s must be a multiple of 512 between 512 and 67108864 (64 MiB), e.g. 65536.", v.AsBigFloat().String()))
		}
	}
	if v := config.GetAttr("partitions"); v.IsWhollyKnown() && !v.IsNull() {
		seen := map[int64]bool{}
		for _, e := range v.AsValueSlice() {
			if e.IsNull() {
				diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("partitions"), "Invalid partition", "partitions may not hold null."))
				continue
			}
			n, acc := e.AsBigFloat().Int64()
			if acc != 0 || n < 1 || seen[n] {
				diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("partitions"), "Invalid partition",
					"partitions holds %s: each must be a partition number (1, 2, ...), listed once.", e.AsBigFloat().String()))
			}
			seen[n] = true
		}
	}
	if v := config.GetAttr("verify"); v.IsKnown() && !v.IsNull() {
		if _, err := parseVerify(v.AsString()); err != nil {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("verify"), "Invalid verify", "%s.", err))
		}
	}
	if v := config.GetAttr("quiesce"); v.IsKnown() && !v.IsNull() {
		if d, err := time.ParseDuration(v.AsString()); err != nil || d <= 0 {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("quiesce"), "Invalid quiet period",
				"quiesce = %q must be a positive duration like \"5s\".", v.AsString()))
		}
	}
	if v := config.GetAttr("checkpoint"); v.IsKnown() && !v.IsNull() {
		if _, err := parseSize(v.AsString()); err != nil {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("checkpoint"), "Invalid checkpoint interval", "%s.", err))
		}
	}
	if v := config.GetAttr("snapshot"); v.IsKnown() && !v.IsNull() && !slices.Contains(drives.Methods, drives.Method(v.AsString())) {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("snapshot"), "Invalid snapshot method",
			"snapshot = %q must be one of auto, none, reflink, btrfs, fsfreeze, passes, guest.", v.AsString()))
	}
	diags = append(diags, validateSourceGuest(config)...)
	if v := config.GetAttr("refresh"); v.IsKnown() && !v.IsNull() && v.AsString() != "full" && v.AsString() != "quick" {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("refresh"), "Invalid refresh mode",
			"refresh = %q must be \"full\" (hash the source when planning) or \"quick\" (only ask whether it was written).", v.AsString()))
	}
	return diags
}

func parseVerify(s string) (blocks.Verify, error) {
	switch s {
	case "false":
		return blocks.VerifyNone, nil
	case "true":
		return blocks.VerifyWritten, nil
	case "full":
		return blocks.VerifyAll, nil
	}
	return 0, fmt.Errorf("verify = %q must be true, false or \"full\"", s)
}

// copyDefaults fills in what config leaves out; the default manifest place
// depends on the target's kind, so h (when known) is consulted.
func copyDefaults(ctx context.Context, v, config cty.Value, h host.Host) cty.Value {
	attrs := map[string]cty.Value{}
	def := map[string]cty.Value{
		"block_size": cty.NumberIntVal(blocks.DefaultBlockSize), "verify": cty.StringVal("false"),
		"snapshot": cty.StringVal(string(drives.Auto)), "hidden": cty.True, "refresh": cty.StringVal("full"),
	}
	for name, d := range def {
		if config.GetAttr(name).IsNull() {
			attrs[name] = d
		}
	}
	if config.GetAttr("manifest").IsNull() {
		attrs["manifest"] = cty.UnknownVal(cty.String)
		if t := v.GetAttr("target"); t.IsKnown() && !t.IsNull() && h != nil {
			attrs["manifest"] = cty.StringVal(defaultManifest(ctx, h, t.AsString()))
		}
	}
	attrs["id"] = hostPathID(v, "target")
	return sdk.SetAttrs(v, attrs)
}

func defaultManifest(ctx context.Context, h host.Host, target string) string {
	if fi, err := h.Lstat(ctx, target); err == nil && fi.Mode()&os.ModeDevice == 0 && fi.Mode()&os.ModeSymlink == 0 {
		return target + ".blocks"
	}
	if strings.HasPrefix(target, "/dev/") {
		name := strings.ReplaceAll(strings.TrimPrefix(target, "/dev/"), "/", "_")
		return path.Join(deviceManifests, name+".blocks")
	}
	return target + ".blocks"
}

func readConfig(v cty.Value) copyConfig {
	c := copyConfig{
		Source: v.GetAttr("source").AsString(), Target: v.GetAttr("target").AsString(),
		Manifest: v.GetAttr("manifest").AsString(),
		Snapshot: drives.Method(v.GetAttr("snapshot").AsString()), Hidden: v.GetAttr("hidden").True(),
		Quick: v.GetAttr("refresh").AsString() == "quick",
	}
	if g := v.GetAttr("source_guest"); g.IsKnown() && !g.IsNull() {
		c.Guest, _ = guestdisk.FromValue(g)
	}
	c.BlockSize, _ = v.GetAttr("block_size").AsBigFloat().Int64()
	c.Verify, _ = parseVerify(v.GetAttr("verify").AsString())
	if q := v.GetAttr("quiesce"); !q.IsNull() {
		c.Quiesce, _ = time.ParseDuration(q.AsString())
	}
	if cp := v.GetAttr("checkpoint"); !cp.IsNull() {
		c.Checkpoint, _ = parseSize(cp.AsString())
	}
	if ps := v.GetAttr("partitions"); !ps.IsNull() {
		for _, p := range ps.AsValueSlice() {
			n, _ := p.AsBigFloat().Int64()
			c.Partitions = append(c.Partitions, int(n))
		}
	}
	return c
}

func (c copyConfig) blocksTarget(h host.Host, t *drives.Drive) blocks.Target {
	bt := blocks.Target{Host: h, Path: c.Target, Manifest: c.Manifest,
		Journal: strings.TrimSuffix(c.Manifest, ".blocks") + ".journal"}
	if t.Kind == drives.Device {
		bt.Device = t.StableID
	}
	return bt
}

// drivesOf probes source and target and refuses what no copy may do.
func drivesOf(ctx context.Context, h host.Host, c copyConfig) (src, dst *drives.Drive, diags providers.Diagnostics) {
	src, err := drives.Probe(ctx, h, c.Source)
	if err != nil {
		return nil, nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("source"), "Cannot read the source", "%s.", err)}
	}
	dst, err = drives.Probe(ctx, h, c.Target)
	if err != nil {
		return nil, nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("target"), "Cannot read the target",
			"%s. Create it first, e.g. with a drive resource (an image file of the source's size, %s).", err, formatBytes(src.Size))}
	}
	switch {
	case drives.Same(src, dst):
		return nil, nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("target"), "Target is the source",
			"%s and %s are the same drive (or one holds the other); the backup must be another drive.", c.Source, c.Target)}
	case dst.Size < src.Size:
		return nil, nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("target"), "Target too small",
			"The target %s holds %d bytes (%s), less than the source %s with %d bytes (%s). Use a larger target drive.",
			c.Target, dst.Size, formatBytes(dst.Size), c.Source, src.Size, formatBytes(src.Size))}
	}
	if why := dst.InUse(); why != "" && c.Hidden {
		return nil, nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("target"), "Target in use",
			"The backup drive %s must be hidden, but %s. Unmount or detach it; nothing but Drover may use a backup drive.", c.Target, why)}
	}
	for _, n := range c.Partitions {
		if _, ok := src.Partition(n); !ok {
			var have []string
			for _, p := range src.Partitions {
				have = append(have, fmt.Sprint(p.Number))
			}
			what := "has no partition table"
			if len(have) > 0 {
				what = "has partitions " + strings.Join(have, ", ")
			}
			return nil, nil, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("partitions"), "Unknown partition",
				"The source %s has no partition %d: it %s.", c.Source, n, what)}
		}
	}
	return src, dst, nil
}

// extents selects the bytes to copy: nil for all, else everything but the
// partitions not selected.
func extents(src *drives.Drive, selected []int) []blocks.Extent {
	if len(selected) == 0 {
		return nil
	}
	var out []blocks.Extent
	at := int64(0)
	parts := slices.Clone(src.Partitions)
	slices.SortFunc(parts, func(a, b drives.Partition) int { return int(a.Start - b.Start) })
	for _, p := range parts {
		if slices.Contains(selected, p.Number) {
			continue
		}
		if p.Start > at {
			out = append(out, blocks.Extent{Off: at, Len: p.Start - at})
		}
		at = max(at, p.Start+p.Size)
	}
	if at < src.Size {
		out = append(out, blocks.Extent{Off: at, Len: src.Size - at})
	}
	return out
}

func planCopy(ctx context.Context, p *sdk.Plan, planned *plannedImages) providers.Diagnostics {
	var h host.Host
	if hv := p.Planned.GetAttr("host"); hv.IsWhollyKnown() && !hv.IsNull() {
		h, _ = host.FromValue(hv)
		if h != nil {
			defer h.Close()
		}
	}
	p.Planned = copyDefaults(ctx, p.Planned, p.Config, h)
	if h == nil || !p.Config.IsWhollyKnown() || !p.Planned.GetAttr("manifest").IsKnown() {
		return nil
	}
	c := readConfig(p.Planned)
	if p.Prior.IsNull() {
		if missing := missingDrives(ctx, h, c); missing != "" {
			return planCopyOfPlanned(ctx, h, p, c, planned, missing)
		}
	}
	src, dst, diags := drivesOf(ctx, h, c)
	if diags.HasErrors() {
		return diags
	}
	choice, err := drives.Choose(ctx, h, src, c.Snapshot, c.Guest, []string{c.Target, c.Manifest})
	if err != nil {
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("snapshot"), "Snapshot method does not apply", "%s.", err)}
	}
	how := "; point-in-time view: " + choice.String() + hashedHere(ctx, h, p.Planned)
	if p.Prior.IsNull() {
		what := "full copy"
		if firstCopyUnfinished(ctx, h, c, dst) {
			what = "finishes the interrupted first copy"
		}
		p.Description = fmt.Sprintf("%s of %s from %s to %s%s", what, formatBytes(selectedBytes(src, c)), c.Source, c.Target, how)
		return nil
	}
	what, copyNeeded, diags := changesSince(ctx, h, p.Prior, c, src, dst)
	if diags.HasErrors() {
		return diags
	}
	if !copyNeeded {
		p.Planned = keepSourceGuest(p.Prior, p.Planned)
	}
	if !copyNeeded && copySame(p.Prior, p.Planned) {
		// Other settings (verify, refresh, quiesce...) take effect with
		// the next copy; recording them copies nothing.
		return nil
	}
	attrs := map[string]cty.Value{}
	for name, ty := range copyComputed {
		attrs[name] = cty.UnknownVal(ty)
	}
	p.Planned = sdk.SetAttrs(p.Planned, attrs)
	if what == "" {
		what = "the copy settings changed"
	}
	p.Description = what + how
	return nil
}

// planCopyOfPlanned plans the first copy when its source or target does
// not exist yet (missing says which): each must be an image that a drive
// resource planned before this copy creates, and the target must be
// planned at least as large as the source.
func planCopyOfPlanned(ctx context.Context, h host.Host, p *sdk.Plan, c copyConfig, planned *plannedImages, missing string) providers.Diagnostics {
	size := func(attr, path string) (int64, bool, providers.Diagnostics) {
		d, err := drives.Probe(ctx, h, path)
		if err == nil {
			return d.Size, true, nil
		}
		if !errors.Is(err, drives.ErrNotFound) {
			return 0, false, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath(attr), "Cannot read the "+attr, "%s.", err)}
		}
		if n, ok := planned.size(hostPathID(p.Planned, attr).AsString()); ok {
			return n, false, nil
		}
		return 0, false, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath(attr), "Missing "+attr,
			"%s does not exist on host %q, and no drive resource planned before this copy creates it. Correct the path, "+
				"attach the drive, or declare it with a drive resource and refer to it (%s = drive.NAME.path), so that it is made first.",
			path, h.Name(), attr)}
	}
	srcSize, srcExists, diags := size("source", c.Source)
	dstSize, _, d := size("target", c.Target)
	if diags = append(diags, d...); diags.HasErrors() {
		return diags
	}
	if dstSize < srcSize {
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("target"), "Target too small",
			"The target %s will hold %d bytes (%s), less than the source %s with %d bytes (%s). Use a larger target drive (its drive resource's size).",
			c.Target, dstSize, formatBytes(dstSize), c.Source, srcSize, formatBytes(srcSize))}
	}
	what := "full copy"
	if srcExists {
		what += " of " + formatBytes(srcSize)
	}
	p.Description = fmt.Sprintf("%s from %s to %s; %s%s", what, c.Source, c.Target, missing, hashedHere(ctx, h, p.Planned))
	return nil
}

// hashedHere tells a plan that every block of the copy crosses the
// transport to be hashed here, when h's machine cannot hash them itself
// (host.CanCall: an SSH host without the agent); nothing where it can.
func hashedHere(ctx context.Context, h host.Host, planned cty.Value) string {
	err := host.CanCall(ctx, h)
	if !errors.Is(err, host.ErrNoOps) {
		// Another failure fails the copy itself, which says why.
		return ""
	}
	through := "the transport"
	if c, err := host.ConfigFromValue(planned.GetAttr("host")); err == nil && c.EffectiveTransport() == "ssh" {
		through = "SFTP"
	}
	return fmt.Sprintf("; %s is reached without the agent: every block is read through %s to be hashed here (%v)", h.Name(), through, err)
}

// missingDrives says which of the copy's drives do not exist yet, if any.
func missingDrives(ctx context.Context, h host.Host, c copyConfig) string {
	var missing []string
	for _, path := range []string{c.Source, c.Target} {
		if _, err := h.Lstat(ctx, path); errors.Is(err, os.ErrNotExist) {
			missing = append(missing, path)
		}
	}
	switch len(missing) {
	case 0:
		return ""
	case 1:
		return missing[0] + " does not exist yet"
	}
	return "neither exists yet"
}

// copySame says whether a and b copy the same bytes the same way.
func copySame(a, b cty.Value) bool {
	for _, name := range []string{"source", "block_size", "partitions", "manifest"} {
		if !a.GetAttr(name).RawEquals(b.GetAttr(name)) {
			return false
		}
	}
	return true
}

func selectedBytes(src *drives.Drive, c copyConfig) int64 {
	ext := extents(src, c.Partitions)
	if ext == nil {
		return src.Size
	}
	var n int64
	for _, e := range ext {
		n += e.Len
	}
	return n
}

// changesSince says what a copy would do now, in the words of the plan.
func changesSince(ctx context.Context, h host.Host, prior cty.Value, c copyConfig, src, dst *drives.Drive) (string, bool, providers.Diagnostics) {
	bt := c.blocksTarget(h, dst)
	age := "the last copy"
	if at, err := time.Parse(time.RFC3339, prior.GetAttr("last_copy_at").AsString()); err == nil {
		age = "the last copy " + formatAge(time.Since(at)) + " ago"
	}
	if c.Quick {
		st, err := bt.Inspect(ctx)
		if err != nil {
			return "", false, providers.Diagnostics{providers.Errorf("Cannot read the copy's manifest", "%s.", err)}
		}
		if why := unusable(st, prior); why != "" {
			return why, true, nil
		}
		stamp, err := drives.WriteStamp(ctx, h, src)
		if err != nil {
			return "", false, providers.Diagnostics{providers.Errorf("Cannot read the source's activity", "%s.", err)}
		}
		if st.Manifest.Labels["source"] == c.Source && st.Manifest.Labels["source_stamp"] == stamp {
			return "", false, nil
		}
		return "the source was written since " + age + "; quick refresh: changed blocks not counted (refresh = \"full\" counts them)", true, nil
	}
	f, err := h.OpenFile(ctx, c.Source, os.O_RDONLY, 0)
	if err != nil {
		return "", false, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("source"), "Cannot read the source", "%s.", err)}
	}
	defer f.Close()
	ch, err := blocks.Scan(ctx, f, bt, blocks.Options{Size: src.Size, BlockSize: c.BlockSize, Extents: extents(src, c.Partitions),
		Source: &blocks.HostPath{Host: h, Path: c.Source}})
	if err != nil {
		return "", false, providers.Diagnostics{providers.Errorf("Cannot compare the source with the copy", "%s.", err)}
	}
	if why := unusable(ch.Status, prior); why != "" {
		return why, true, nil
	}
	switch {
	case ch.Rehash:
		return ch.Reason + ": the target is hashed again, then changed blocks are copied", true, nil
	case ch.Blocks == 0:
		return "", false, nil
	}
	unit := "blocks"
	if ch.Blocks == 1 {
		unit = "block"
	}
	return fmt.Sprintf("%s in %s %s changed since %s; full refresh: the source was hashed",
		formatBytes(ch.Bytes), formatCount(ch.Blocks), unit, age), true, nil
}

// unusable says why the target needs a copy whatever the source holds.
func unusable(st blocks.Status, prior cty.Value) string {
	m := st.Manifest
	gen, _ := prior.GetAttr("generation").AsBigFloat().Int64()
	switch {
	case st.Interrupted:
		return "an interrupted copy is rolled back to the last complete copy, then the copy is made again"
	case !st.Trusted && st.Why != "":
		return "full copy: " + st.Why
	case m == nil:
		return "full copy: the manifest of the last copy is gone"
	case m.State == blocks.Partial:
		return "finishes the interrupted first copy"
	case m.State == blocks.Tainted:
		return "full copy: the last copy failed its verify"
	case m.Generation != gen:
		return fmt.Sprintf("the target holds generation %d, the state remembers %d", m.Generation, gen)
	}
	return ""
}

func readCopy(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
	h, diags := openHost(state)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	c := readConfig(state)
	if _, err := h.Lstat(ctx, c.Target); errors.Is(err, os.ErrNotExist) {
		return cty.NullVal(state.Type()), nil
	}
	if _, err := h.Lstat(ctx, c.Manifest); errors.Is(err, os.ErrNotExist) {
		return cty.NullVal(state.Type()), nil
	} else if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot read the copy's manifest", "%s.", err)}
	}
	if d, err := drives.Probe(ctx, h, c.Target); err == nil && firstCopyUnfinished(ctx, h, c, d) {
		// No backup exists yet: the next apply creates it, and the copy
		// goes on from where the interrupted one stopped instead of the
		// copy being destroyed and made again from the start.
		return cty.NullVal(state.Type()), nil
	}
	return state, nil
}

// firstCopyUnfinished says whether the target drive dst holds the first
// copy of its source half made: a manifest of generation 1 still being
// filled.
func firstCopyUnfinished(ctx context.Context, h host.Host, c copyConfig, dst *drives.Drive) bool {
	st, err := c.blocksTarget(h, dst).Inspect(ctx)
	return err == nil && st.Trusted && !st.Interrupted && st.Manifest != nil &&
		st.Manifest.State == blocks.Partial && st.Manifest.Generation == 1
}

func applyCopy(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	h, diags := openHost(req.Planned)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	v := req.Planned
	c := readConfig(v)
	if !req.Prior.IsNull() && v.GetAttr("generation").IsKnown() {
		// Only settings changed: nothing to copy.
		return v, nil
	}
	ctx = host.WithProgress(ctx, func(p host.Progress) {
		req.Progress(providers.Progress{Done: p.Done, Total: p.Total, Unit: p.Unit, Message: p.Message})
	})
	res, err := copyOn(ctx, h, v.GetAttr("host"), c)
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Copy failed",
			"Copying %s to %s: %s. The target keeps its last complete copy; apply again to retry.", c.Source, c.Target, err)}
	}
	diags = res.diagnostics()
	if !res.Copied {
		return cty.NilVal, diags
	}
	return sdk.SetAttrs(v, map[string]cty.Value{
		"last_copy_at":   cty.StringVal(res.CopiedAt.Format(time.RFC3339)),
		"generation":     cty.NumberIntVal(res.Generation),
		"bytes_copied":   cty.NumberIntVal(res.BytesChanged),
		"blocks_changed": cty.NumberIntVal(res.BlocksChanged),
		"source_digest":  cty.StringVal(res.Digest),
		"snapshot_used":  cty.StringVal(res.Used),
	}), diags
}

// hide makes the target read-only (BLKROSET, or mode 0400 for an image),
// or writable again.
func hide(ctx context.Context, h host.Host, d *drives.Drive, readOnly bool) error {
	if d.Kind == drives.Image {
		mode := os.FileMode(0o600)
		if readOnly {
			mode = 0o400
		}
		return h.Chmod(ctx, d.Path, mode)
	}
	flag := "--setrw"
	if readOnly {
		flag = "--setro"
	}
	_, err := drives.Run(ctx, h, "blockdev", flag, d.Path)
	return err
}

// copyFiles are the files of the copy v that a destroy with
// delete_on_destroy deletes, as they are on h now, with their sizes.
func copyFiles(ctx context.Context, h host.Host, v cty.Value) []string {
	c := readConfig(v)
	var files []string
	for _, p := range []string{c.Manifest, strings.TrimSuffix(c.Manifest, ".blocks") + ".journal"} {
		if fi, err := h.Lstat(ctx, p); err == nil {
			files = append(files, fmt.Sprintf("%s (%s)", p, formatBytes(fi.Size())))
		}
	}
	return files
}

// describeCopyDelete says in the plan which files a destroy deletes, or
// that it leaves them.
func describeCopyDelete(ctx context.Context, prior cty.Value) (string, providers.Diagnostics) {
	h, diags := openHost(prior)
	if diags.HasErrors() {
		return "", nil
	}
	defer h.Close()
	files := copyFiles(ctx, h, prior)
	target := prior.GetAttr("target").AsString()
	switch {
	case len(files) == 0:
		return "", nil
	case prior.GetAttr("delete_on_destroy").True():
		unit := "files"
		if len(files) == 1 {
			unit = "file"
		}
		return fmt.Sprintf("deletes %d %s; the copy on %s stays\n%s", len(files), unit, target, strings.Join(files, "\n")), nil
	}
	return fmt.Sprintf("the copy on %s and its manifest stay on the host, forgotten; delete_on_destroy = true deletes the manifest\n%s", target, strings.Join(files, "\n")), nil
}

func deleteCopy(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
	if !req.Prior.GetAttr("delete_on_destroy").True() {
		// Forgotten: the copy and its manifest stay as they are, usable by
		// a drive_copy declared again.
		return nil
	}
	h, diags := openHost(req.Prior)
	if diags.HasErrors() {
		return diags
	}
	defer h.Close()
	c := readConfig(req.Prior)
	d, err := drives.Probe(ctx, h, c.Target)
	if errors.Is(err, drives.ErrNotFound) {
		return nil
	}
	if err != nil {
		return providers.Diagnostics{providers.Errorf("Cannot read the target", "%s.", err)}
	}
	if err := hide(ctx, h, d, false); err != nil {
		return providers.Diagnostics{providers.Errorf("Cannot make the target writable again", "%s.", err)}
	}
	// An interrupted copy is rolled back first: the target is left as the
	// last complete copy, not half of one.
	bt := c.blocksTarget(h, d)
	if _, err := bt.Recover(ctx); err != nil {
		return providers.Diagnostics{providers.Errorf("Cannot roll back the interrupted copy", "%s.", err)}
	}
	if err := bt.RemoveManifest(ctx); err != nil {
		return providers.Diagnostics{providers.Errorf("Cannot remove the copy's manifest", "%s.", err)}
	}
	return nil
}
