package disk

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/disk/drives"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// copyArgs are the arguments every drive action takes: the drive_copy's
// own attributes, which the CLI passes from the state.
var copyArgs = map[string]*schema.Attribute{
	"host":     {Type: host.Type, Required: true, Description: "The host of the drive_copy."},
	"source":   {Type: cty.String, Required: true, Description: "The drive_copy's source."},
	"target":   {Type: cty.String, Required: true, Description: "The drive_copy's target, the backup."},
	"manifest": {Type: cty.String, Required: true, Description: "The drive_copy's manifest."},
	"partition": {Type: cty.Number, Optional: true,
		Description: "The partition to look at; every partition with a file system when not set (diff)."},
}

func withArgs(extra map[string]*schema.Attribute) *schema.Block {
	attrs := map[string]*schema.Attribute{}
	for k, v := range copyArgs {
		attrs[k] = v
	}
	for k, v := range extra {
		attrs[k] = v
	}
	return &schema.Block{Attributes: attrs}
}

var changeType = cty.Object(map[string]cty.Type{"partition": cty.Number, "path": cty.String, "change": cty.String})

func diffAction() *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Compares the files of the source with those of its backup, partition by partition, with both mounted read-only.",
			Args: withArgs(map[string]*schema.Attribute{
				"path": {Type: cty.String, Optional: true, Description: "Compare only below this path of the file systems."},
			}),
			Result: cty.List(changeType),
		},
		Invoke: invokeDiff,
	}
}

func restoreAction() *sdk.Action {
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Restores a whole partition, or a file or folder, from the backup.",
			Args: withArgs(map[string]*schema.Attribute{
				"path": {Type: cty.String, Optional: true, Description: "The file or folder to restore (a path inside the partition's file system)."},
				"to":   {Type: cty.String, Optional: true, Description: "Where to restore to instead of the source."},
				"preview": {Type: cty.Bool, Optional: true,
					Description: "Only say what would be written and overwritten (of a path restored over the source, the files in changes); nothing changes."},
				"undo_file": {Type: cty.String, Optional: true,
					Description: "Keep what the restore overwrites: of a partition in this new file, each piece synced before it is overwritten; of a path restored over the source in this new folder, before anything is written."},
				"put_back": {Type: cty.String, Optional: true,
					Description: "Put back what the restore that wrote this undo file or folder overwrote, and remove what it created (nothing else is restored)."},
			}),
			Result: cty.Object(map[string]cty.Type{"restored": cty.String, "bytes_written": cty.Number, "overwrites": cty.Number,
				"changes": cty.List(changeType)}),
		},
		Invoke: invokeRestore,
	}
}

// backup opens what an action works on and checks the backup is usable.
type backup struct {
	h host.Host
	// src is nil for a restore elsewhere or an undo when the source
	// cannot be read (see openBackup).
	src, dst *drives.Drive
	sess     *drives.Session
}

func openBackup(ctx context.Context, args cty.Value) (*backup, providers.Diagnostics) {
	h, diags := openHost(args)
	if diags.HasErrors() {
		return nil, diags
	}
	str := func(name string) string { return args.GetAttr(name).AsString() }
	set := func(name string) bool { return args.Type().HasAttribute(name) && !args.GetAttr(name).IsNull() }
	// The source is needed to compare with it or to restore over it only:
	// a restore elsewhere (--to) or an undo goes on without it, since a
	// source that is gone is when a backup is needed most. src is then nil.
	src, err := drives.Probe(ctx, h, str("source"))
	if err != nil && !set("to") && !set("put_back") {
		h.Close()
		return nil, providers.Diagnostics{providers.Errorf("Cannot read the source", "%s.", err)}
	}
	dst, err := drives.Probe(ctx, h, str("target"))
	if err != nil {
		h.Close()
		return nil, providers.Diagnostics{providers.Errorf("Cannot read the backup", "%s.", err)}
	}
	bt := blocks.Target{Host: h, Path: dst.Path, Manifest: str("manifest"), Journal: strings.TrimSuffix(str("manifest"), ".blocks") + ".journal"}
	if dst.Kind == drives.Device {
		bt.Device = dst.StableID
	}
	st, err := bt.Inspect(ctx)
	if err == nil && st.Interrupted {
		// Rolled back to the last complete copy first, as the next apply
		// would: that needs only the backup and its journal, while the
		// apply needs the source, which may be what failed mid-copy.
		var rec *blocks.Recovery
		if rec, err = bt.Recover(ctx); err == nil {
			st, err = bt.Inspect(ctx)
		}
		if err == nil && rec != nil {
			diags = append(diags, providers.Diagnostic{Severity: providers.Warning, Summary: "Interrupted copy rolled back",
				Detail: fmt.Sprintf("The last copy to %s was interrupted: it was rolled back to the last complete copy (%s), which is what this uses.", dst.Path, rec)})
		}
	}
	if err == nil {
		err = st.Usable()
	}
	if err != nil {
		h.Close()
		return nil, providers.Diagnostics{providers.Errorf("Backup not usable",
			"The backup %s cannot be used: %s.", dst.Path, err)}
	}
	return &backup{h: h, src: src, dst: dst, sess: drives.NewSession(h)}, diags
}

// close undoes every mount and loop device, also after a failure.
func (b *backup) close(ctx context.Context, diags *providers.Diagnostics) {
	if err := b.sess.Close(ctx); err != nil {
		*diags = append(*diags, providers.Errorf("Cleanup failed", "%s. Check `losetup --list` and `findmnt` and undo by hand what is left.", err))
	}
	b.h.Close()
}

// mountBackup mounts partition n of the backup read-only.
func (b *backup) mountBackup(ctx context.Context, n int) (string, error) {
	p, ok := b.dst.Partition(n)
	if !ok {
		return "", fmt.Errorf("the backup %s has no partition %d", b.dst.Path, n)
	}
	dev, err := b.sess.AttachRange(ctx, b.dst.Path, p.Start, p.Size, false)
	if err != nil {
		return "", err
	}
	return b.sess.Mount(ctx, dev, false)
}

// mountSource finds partition n of the source mounted, or mounts it for
// the session (temporary).
func (b *backup) mountSource(ctx context.Context, n int, writable bool) (dir string, temporary bool, err error) {
	for _, m := range b.src.Mounts {
		if m.Partition == n && (!writable || !m.ReadOnly) {
			return m.Point, false, nil
		}
	}
	p, ok := b.src.Partition(n)
	if !ok {
		return "", false, fmt.Errorf("the source %s has no partition %d", b.src.Path, n)
	}
	dev, err := b.sess.AttachRange(ctx, b.src.Path, p.Start, p.Size, writable)
	if err != nil {
		return "", false, err
	}
	dir, err = b.sess.Mount(ctx, dev, writable)
	return dir, true, err
}

func partitionArg(args cty.Value) (int, bool) {
	v := args.GetAttr("partition")
	if v.IsNull() {
		return 0, false
	}
	n, _ := v.AsBigFloat().Int64()
	return int(n), true
}

func invokeDiff(ctx context.Context, req sdk.InvokeRequest) (res cty.Value, diags providers.Diagnostics) {
	b, diags := openBackup(ctx, req.Args)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer b.close(ctx, &diags)
	sub := "/"
	if p := req.Args.GetAttr("path"); !p.IsNull() {
		sub = p.AsString()
	}
	var parts []int
	n, explicit := partitionArg(req.Args)
	if explicit {
		parts = []int{n}
	} else {
		for _, p := range b.dst.Partitions {
			parts = append(parts, p.Number)
		}
	}
	if len(parts) == 0 {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("No partitions", "The backup %s has no partition table to look into.", b.dst.Path)}
	}
	var out []cty.Value
	for i, n := range parts {
		req.Progress(providers.Progress{Done: int64(i), Total: int64(len(parts)), Unit: "partitions", Message: fmt.Sprintf("comparing partition %d", n)})
		bdir, err := b.mountBackup(ctx, n)
		if errors.Is(err, drives.ErrNoFileSystem) && sub == "/" {
			// A partition without a file system (swap, boot code) has no
			// files: its bytes are compared.
			change, err := b.diffRaw(ctx, n)
			if err != nil {
				return cty.NilVal, append(diags, providers.Errorf("Cannot compare", "Partition %d: %s.", n, err))
			}
			if change != "" {
				out = append(out, cty.ObjectVal(map[string]cty.Value{
					"partition": cty.NumberIntVal(int64(n)), "path": cty.StringVal(""), "change": cty.StringVal(change)}))
			}
			continue
		}
		if errors.Is(err, drives.ErrNoFileSystem) && !explicit {
			// Below a path, only file systems are looked into.
			continue
		}
		if err != nil {
			return cty.NilVal, append(diags, providers.Errorf("Cannot mount the backup", "Partition %d: %s.", n, err))
		}
		sdir, _, err := b.mountSource(ctx, n, false)
		if err != nil {
			return cty.NilVal, append(diags, providers.Errorf("Cannot mount the source", "Partition %d: %s.", n, err))
		}
		changes, err := b.compareTrees(ctx, sdir, bdir, sub)
		if err != nil {
			return cty.NilVal, append(diags, providers.Errorf("Cannot compare", "Partition %d: %s.", n, err))
		}
		for _, c := range changes {
			out = append(out, cty.ObjectVal(map[string]cty.Value{
				"partition": cty.NumberIntVal(int64(n)), "path": cty.StringVal(c.Path), "change": cty.StringVal(c.Kind)}))
		}
	}
	req.Progress(providers.Progress{Done: int64(len(parts)), Total: int64(len(parts)), Unit: "partitions"})
	if len(out) == 0 {
		return cty.ListValEmpty(changeType), diags
	}
	return cty.ListVal(out), diags
}

// compareTrees compares the file systems mounted on sdir and bdir below
// sub, each through a host confined to it: a symlink in either never leads
// the comparison out to the machine's files.
func (b *backup) compareTrees(ctx context.Context, sdir, bdir, sub string) ([]drives.Change, error) {
	source, err := b.h.Sub(ctx, sdir)
	if err != nil {
		return nil, err
	}
	defer source.Close()
	backup, err := b.h.Sub(ctx, bdir)
	if err != nil {
		return nil, err
	}
	defer backup.Close()
	changes, err := drives.CompareTrees(ctx, source, backup, sub)
	if errors.Is(err, host.ErrOutsideRoot) {
		return nil, fmt.Errorf("%s passes a symlink that leads out of its file system; compare by the path the link points to inside it", sub)
	}
	return changes, err
}

// diffRaw compares partition n of the source and the backup byte by byte:
// "≠" when they differ, "-" when the source no longer has it where the
// backup does, "" when they are equal.
func (b *backup) diffRaw(ctx context.Context, n int) (string, error) {
	p, _ := b.dst.Partition(n)
	sp, ok := b.src.Partition(n)
	if !ok || sp.Start != p.Start || sp.Size != p.Size {
		return "-", nil
	}
	differ, err := drives.DiffRange(ctx, b.h, b.src.Path, sp.Start, b.dst.Path, p.Start, p.Size, nil)
	if err != nil || differ == 0 {
		return "", err
	}
	return "≠", nil
}

func invokeRestore(ctx context.Context, req sdk.InvokeRequest) (res cty.Value, diags providers.Diagnostics) {
	b, diags := openBackup(ctx, req.Args)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer b.close(ctx, &diags)
	n, hasPart := partitionArg(req.Args)
	str := func(name string) string {
		if v := req.Args.GetAttr(name); !v.IsNull() {
			return v.AsString()
		}
		return ""
	}
	result := func(what string, written, overwrites int64, changes ...cty.Value) cty.Value {
		list := cty.ListValEmpty(changeType)
		if len(changes) > 0 {
			list = cty.ListVal(changes)
		}
		return cty.ObjectVal(map[string]cty.Value{"restored": cty.StringVal(what),
			"bytes_written": cty.NumberIntVal(written), "overwrites": cty.NumberIntVal(overwrites), "changes": list})
	}
	if undo := str("put_back"); undo != "" {
		what, written, err := b.putBack(ctx, req, undo)
		if err != nil {
			return cty.NilVal, append(diags, providers.Errorf("Putting back failed", "%s.", err))
		}
		return result(what, written, written), diags
	}
	preview := req.Args.GetAttr("preview").True()
	if p := req.Args.GetAttr("path"); !p.IsNull() {
		if !hasPart {
			if len(b.dst.Partitions) != 1 {
				return cty.NilVal, providers.Diagnostics{providers.Errorf("Which partition?",
					"The backup %s has %d partitions; say which one holds %s with --partition N.", b.dst.Path, len(b.dst.Partitions), p.AsString())}
			}
			n = b.dst.Partitions[0].Number
		}
		what, changes, err := b.restorePath(ctx, req, n, p.AsString(), str("to"), preview, str("undo_file"))
		if err != nil {
			return cty.NilVal, append(diags, providers.Errorf("Restore failed", "%s.", err))
		}
		var list []cty.Value
		var overwrites int64
		for _, c := range changes {
			if c.Kind == "≠" {
				overwrites++
			}
			list = append(list, cty.ObjectVal(map[string]cty.Value{
				"partition": cty.NumberIntVal(int64(n)), "path": cty.StringVal(c.Path), "change": cty.StringVal(c.Kind)}))
		}
		return result(what, 0, overwrites, list...), diags
	}
	if !hasPart {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Nothing to restore", "Name a partition (--partition N) or a path (--path P).")}
	}
	what, written, overwrites, err := b.restorePartition(ctx, req, n, str("to"), preview, str("undo_file"))
	if err != nil {
		return cty.NilVal, append(diags, providers.Errorf("Restore failed", "%s.", err))
	}
	return result(what, written, overwrites), diags
}

// restorePartition writes partition n of the backup over the source's, or
// to (a drive, or a new file). It returns what it restored, the bytes it
// wrote and of those the bytes that held data before (a new file holds
// none); with preview it writes nothing and says what it would, the
// bytes it would overwrite included. With
// undoFile, what it overwrites is kept there first.
func (b *backup) restorePartition(ctx context.Context, req sdk.InvokeRequest, n int, to string, preview bool, undoFile string) (what string, written, overwrites int64, err error) {
	p, ok := b.dst.Partition(n)
	if !ok {
		return "", 0, 0, fmt.Errorf("the backup %s has no partition %d", b.dst.Path, n)
	}
	dest, off, exists := to, int64(0), true
	if to == "" {
		dest = b.src.Path
		sp, ok := b.src.Partition(n)
		if !ok || sp.Start != p.Start || sp.Size != p.Size {
			return "", 0, 0, fmt.Errorf("partition %d of the source %s is not where the backup has it; restore it --to another drive or file", n, b.src.Path)
		}
		if m, mounted := mountedPartition(b.src, n); mounted {
			return "", 0, 0, fmt.Errorf("partition %d of %s is mounted on %s; unmount it before overwriting it", n, b.src.Path, m)
		}
		off = p.Start
	} else {
		d, err := drives.Probe(ctx, b.h, to)
		switch {
		case errors.Is(err, drives.ErrNotFound):
			exists = false
		case err != nil:
			return "", 0, 0, err
		case d.InUse() != "":
			return "", 0, 0, fmt.Errorf("%s cannot be overwritten: %s", to, d.InUse())
		case d.Size < p.Size:
			return "", 0, 0, fmt.Errorf("%s holds %d bytes, less than partition %d's %d", to, d.Size, n, p.Size)
		case drives.Same(d, b.dst):
			return "", 0, 0, fmt.Errorf("%s is the backup itself", to)
		}
	}
	what = fmt.Sprintf("partition %d (%s) to %s", n, formatBytes(p.Size), dest)
	msg := fmt.Sprintf("comparing partition %d with %s", n, dest)
	progress := func(done int64) {
		req.Progress(providers.Progress{Done: done, Total: p.Size, Unit: "bytes", Message: msg})
	}
	switch {
	case preview && !exists:
		return what, p.Size, 0, nil
	case preview:
		differ, err := drives.DiffRange(ctx, b.h, b.dst.Path, p.Start, dest, off, p.Size, progress)
		if differ > 0 {
			what += fmt.Sprintf(" overwrites %s that differ from the copy", formatBytes(differ))
		}
		return what, differ, differ, err
	case !exists:
		if err := createRestoreFile(ctx, b.h, to, p.Size); err != nil {
			return "", 0, 0, err
		}
	}
	var save func(int64, []byte) error
	if undoFile != "" && exists {
		u, err := drives.CreateUndo(ctx, b.h, undoFile, drives.UndoHeader{Target: dest, Start: off, Size: p.Size,
			Restore: fmt.Sprintf("partition %d of %s", n, b.dst.Path)})
		if err != nil {
			return "", 0, 0, fmt.Errorf("making the undo file: %w", err)
		}
		defer u.Close()
		save = u.Save
	}
	msg = fmt.Sprintf("restoring partition %d to %s", n, dest)
	written, err = drives.CopyRange(ctx, b.h, b.dst.Path, p.Start, dest, off, p.Size, save, progress)
	if exists {
		overwrites = written
	}
	return what, written, overwrites, err
}

// mountedPartition says where partition n of d (or the whole of d) is
// mounted, if it is.
func mountedPartition(d *drives.Drive, n int) (string, bool) {
	for _, m := range d.Mounts {
		if m.Partition == n || m.Partition == 0 {
			return m.Point, true
		}
	}
	return "", false
}

// putBack writes back what a partition restore overwrote, from its undo
// file, unless a file system on that range is mounted.
func (b *backup) putBack(ctx context.Context, req sdk.InvokeRequest, undo string) (string, int64, error) {
	if drives.IsTreeUndo(ctx, b.h, undo) {
		return b.putBackTree(ctx, undo)
	}
	var what string
	check := func(hdr drives.UndoHeader) error {
		d, err := drives.Probe(ctx, b.h, hdr.Target)
		if err != nil {
			return err
		}
		for _, m := range d.Mounts {
			p, ok := d.Partition(m.Partition)
			if m.Partition == 0 || ok && p.Start < hdr.Start+hdr.Size && hdr.Start < p.Start+p.Size {
				return fmt.Errorf("%s is mounted on %s; unmount it before putting back what the restore overwrote", hdr.Target, m.Point)
			}
		}
		what = fmt.Sprintf("what the restore of %s overwrote on %s, from %s", hdr.Restore, hdr.Target, undo)
		return nil
	}
	_, written, err := drives.PutBack(ctx, b.h, undo, check, func(done int64) {
		req.Progress(providers.Progress{Done: done, Unit: "bytes", Message: "putting back " + undo})
	})
	return what, written, err
}

func createRestoreFile(ctx context.Context, h host.Host, p string, size int64) error {
	return createImage(ctx, h, p, size)
}

// restorePath copies p of the backup's partition n over the source's file
// system, or to. Over the source, it returns what the restore overwrites
// ("≠") and creates ("-"), as drive diff names them; with preview it writes
// nothing, and with undoFile it keeps those first (drives.SaveTree).
func (b *backup) restorePath(ctx context.Context, req sdk.InvokeRequest, n int, p, to string, preview bool, undoFile string) (string, []drives.Change, error) {
	rel := path.Clean("/" + p)
	bdir, err := b.mountBackup(ctx, n)
	if err != nil {
		return "", nil, err
	}
	// Both file systems are reached through hosts confined to them: a
	// symlink in either resolves inside it, never on the machine.
	from, err := b.h.Sub(ctx, bdir)
	if err != nil {
		return "", nil, err
	}
	defer from.Close()
	if _, err := from.Lstat(ctx, rel); errors.Is(err, host.ErrOutsideRoot) {
		return "", nil, fmt.Errorf("%s of the backup's partition %d passes a symlink that leads out of its file system; restore by the path the link points to inside it", rel, n)
	} else if err != nil {
		return "", nil, fmt.Errorf("the backup's partition %d has no %s", n, rel)
	}
	var dir, dst, where string
	var changes []drives.Change
	if to == "" {
		sdir, temporary, err := b.mountSource(ctx, n, !preview)
		if err != nil {
			return "", nil, err
		}
		dir, dst, where = sdir, rel, path.Join(sdir, rel)
		if temporary {
			where = fmt.Sprintf("%s on partition %d of %s", rel, n, b.src.Path)
		}
	} else {
		if !path.IsAbs(to) {
			return "", nil, fmt.Errorf("--to %s must be an absolute path", to)
		}
		dir, dst, where = path.Dir(to), "/"+path.Base(to), to
		if err := b.h.MkdirAll(ctx, dir, 0o755); err != nil {
			return "", nil, err
		}
	}
	dest, err := b.h.Sub(ctx, dir)
	if err != nil {
		return "", nil, err
	}
	defer dest.Close()
	outside := func(err error) error {
		return fmt.Errorf("restoring %s to %s: a symlink on the way leads out of the file system written to (%w); nothing outside it is written", rel, where, err)
	}
	if to == "" {
		all, err := drives.CompareTrees(ctx, dest, from, rel)
		if errors.Is(err, host.ErrOutsideRoot) {
			return "", nil, outside(err)
		}
		if err != nil {
			return "", nil, err
		}
		for _, c := range all {
			if c.Kind != "+" { // what only the source has stays
				changes = append(changes, c)
			}
		}
		if preview {
			return fmt.Sprintf("%s of partition %d to %s", rel, n, where), changes, nil
		}
	}
	if undoFile != "" && len(changes) > 0 {
		overwritten, created := drives.TreeUndoChanges(changes)
		hdr := drives.TreeUndoHeader{Source: b.src.Path, Partition: n, Overwritten: overwritten, Created: created,
			Restore: fmt.Sprintf("%s of partition %d of %s", rel, n, b.dst.Path)}
		if err := drives.SaveTree(ctx, b.h, undoFile, hdr, dest); err != nil {
			return "", nil, fmt.Errorf("making the undo folder: %w", err)
		}
	}
	req.Progress(providers.Progress{Message: fmt.Sprintf("restoring %s from partition %d to %s", rel, n, where)})
	err = dest.MkdirAll(ctx, path.Dir(dst), 0o755)
	if err == nil {
		err = drives.CopyTree(ctx, from, rel, dest, dst)
	}
	if errors.Is(err, host.ErrOutsideRoot) {
		return "", nil, outside(err)
	}
	if err == nil {
		err = dest.Sync(ctx, path.Dir(dst))
	}
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("%s of partition %d to %s", rel, n, where), changes, nil
}

// putBackTree puts back what a --path restore overwrote, from its undo
// folder, into the source's file system, mounted for it if it is not.
func (b *backup) putBackTree(ctx context.Context, undo string) (string, int64, error) {
	hdr, err := drives.ReadTreeUndo(ctx, b.h, undo)
	if err != nil {
		return "", 0, err
	}
	if b.src == nil || hdr.Source != b.src.Path {
		return "", 0, fmt.Errorf("%s puts back files of %s, which is not this copy's source or cannot be read", undo, hdr.Source)
	}
	sdir, _, err := b.mountSource(ctx, hdr.Partition, true)
	if err != nil {
		return "", 0, err
	}
	fsys, err := b.h.Sub(ctx, sdir)
	if err != nil {
		return "", 0, err
	}
	defer fsys.Close()
	if _, err := drives.PutBackTree(ctx, b.h, undo, fsys); err != nil {
		return "", 0, err
	}
	what := fmt.Sprintf("what the restore of %s overwrote on partition %d of %s (%d overwritten, %d created), from %s",
		hdr.Restore, hdr.Partition, hdr.Source, len(hdr.Overwritten), len(hdr.Created), undo)
	return what, 0, nil
}
