package disk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"time"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/disk/drives"
	"github.com/zclconf/go-cty/cty"
)

// A drive_copy's source and target lie on one machine: the whole copy
// runs there as the op disk.copy (in this process for a local host, in
// the agent for an SSH host), so that the changed blocks, and the
// journal's old bytes of them, never cross the network. The controller
// gets the copy's progress while it runs and, at the end, what the
// resource records.
func init() {
	host.RegisterOp("disk.copy", copyOnMachine)
}

// copyResult is what disk.copy answers.
type copyResult struct {
	// Copied says the target holds a new generation (even one that failed
	// its verify, which Diags then tells); the fields below describe it.
	Copied                      bool
	CopiedAt                    time.Time
	Generation                  int64
	BytesChanged, BlocksChanged int64
	Digest                      string
	// Used is snapshot_used: the point-in-time method and how it went.
	Used  string
	Diags []copyDiag
}

// copyDiag is a providers.Diagnostic as it crosses to the controller: its
// path, when it has one, is one of the resource's attributes.
type copyDiag struct {
	Severity              providers.Severity
	Attr, Summary, Detail string
}

func (r copyResult) diagnostics() providers.Diagnostics {
	var diags providers.Diagnostics
	for _, d := range r.Diags {
		pd := providers.Diagnostic{Severity: d.Severity, Summary: d.Summary, Detail: d.Detail}
		if d.Attr != "" {
			pd.Path = cty.GetAttrPath(d.Attr)
		}
		diags = append(diags, pd)
	}
	return diags
}

func wireDiags(diags providers.Diagnostics) []copyDiag {
	var out []copyDiag
	for _, d := range diags {
		cd := copyDiag{Severity: d.Severity, Summary: d.Summary, Detail: d.Detail}
		if len(d.Path) == 1 {
			if step, ok := d.Path[0].(cty.GetAttrStep); ok {
				cd.Attr = step.Name
			}
		}
		out = append(out, cd)
	}
	return out
}

// copyOn runs the copy c of the drive_copy whose host is h (hv in the
// configuration) on h's machine. Where that machine cannot run ops (an SSH
// host without the agent), or cannot reach the source guest's host, the
// same copy runs here through h's transport.
func copyOn(ctx context.Context, h host.Host, hv cty.Value, c copyConfig) (copyResult, error) {
	if cfg, err := host.ConfigFromValue(hv); err == nil && cfg.EffectiveTransport() != "local" && c.Guest != nil {
		g := *c.Guest
		if !sameMachine(g.Host, cfg) {
			return copyOnMachine(ctx, h, c)
		}
		// On the machine the guest's host is the machine itself: a local
		// host there, rooted where the guest's host is.
		g.Host = host.Config{Name: g.Host.Name, Root: g.Host.Root}
		c.Guest = &g
	}
	res, err := host.Call[copyConfig, copyResult](ctx, h, "disk.copy", c)
	if errors.Is(err, host.ErrNoOps) {
		return copyOnMachine(ctx, h, c)
	}
	return res, err
}

// sameMachine says whether the host configurations a and b reach one
// machine as one user.
func sameMachine(a, b host.Config) bool {
	return a.EffectiveTransport() == b.EffectiveTransport() && a.Address == b.Address && a.Port == b.Port && a.User == b.User
}

// copyOnMachine is disk.copy: the copy c, with h a host of the drives'
// machine (or, where that machine runs no ops, a host reaching it).
func copyOnMachine(ctx context.Context, h host.Host, c copyConfig) (copyResult, error) {
	res, diags := copyDrive(ctx, h, c)
	res.Diags = wireDiags(diags)
	return res, nil
}

func copyDrive(ctx context.Context, h host.Host, c copyConfig) (res copyResult, diags providers.Diagnostics) {
	src, dst, d := drivesOf(ctx, h, c)
	if d.HasErrors() {
		return res, d
	}
	choice, err := drives.Choose(ctx, h, src, c.Snapshot, c.Guest, []string{c.Target, c.Manifest})
	if err != nil {
		return res, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("snapshot"), "Snapshot method does not apply", "%s.", err)}
	}
	if c.Quiesce > 0 {
		host.ReportProgress(ctx, host.Progress{Message: fmt.Sprintf("waiting for %s without writes to %s", c.Quiesce, c.Source)})
		limit := max(12*c.Quiesce, time.Minute)
		waited, quiet, err := drives.WaitQuiet(ctx, h, src, c.Quiesce, limit, min(c.Quiesce/10, time.Second))
		if err != nil {
			return res, providers.Diagnostics{providers.Errorf("Cannot watch the source", "%s.", err)}
		}
		if !quiet {
			diags = append(diags, providers.Diagnostic{Severity: providers.Warning, Summary: "The source never went quiet",
				Detail: fmt.Sprintf("%s was written at least every %s for %s; the copy went ahead with %s.", c.Source, c.Quiesce, waited.Round(time.Second), choice)})
		}
	}
	stamp, err := drives.WriteStamp(ctx, h, src)
	if err != nil {
		return res, providers.Diagnostics{providers.Errorf("Cannot read the source's activity", "%s.", err)}
	}
	if err := h.MkdirAll(ctx, path.Dir(c.Manifest), 0o700); err != nil {
		return res, providers.Diagnostics{providers.Errorf("Cannot create the manifest's folder", "%s.", err)}
	}
	if err := hide(ctx, h, dst, false); err != nil {
		return res, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("target"), "Cannot make the target writable", "%s.", err)}
	}
	defer func() {
		if c.Hidden {
			if err := hide(ctx, h, dst, true); err != nil {
				diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("target"), "Cannot hide the target", "%s.", err))
			}
		}
	}()

	view, err := drives.Open(ctx, h, src, choice)
	if err != nil {
		return res, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("snapshot"), "Cannot take a point-in-time view", "%s.", err)}
	}
	defer view.Close(ctx)
	f, err := h.OpenFile(ctx, view.Path, os.O_RDONLY, 0)
	if err != nil {
		return res, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("source"), "Cannot read the source", "%s.", err)}
	}
	defer f.Close()
	opts := blocks.Options{
		Size: src.Size, BlockSize: c.BlockSize, Extents: extents(src, c.Partitions), Verify: c.Verify,
		MaxPasses: view.MaxPasses, Freeze: view.Freeze, Checkpoint: c.Checkpoint,
		Labels:   map[string]string{"source": c.Source, "source_stamp": stamp},
		Progress: func(p blocks.Progress) { host.ReportProgress(ctx, copyProgress(p)) },
		Source:   &blocks.HostPath{Host: h, Path: view.Path},
	}
	out, err := blocks.Copy(ctx, f, c.blocksTarget(h, dst), opts)
	if cerr := view.Close(ctx); cerr != nil {
		diags = append(diags, providers.Diagnostic{Severity: providers.Warning, Summary: "Point-in-time view not released",
			Detail: fmt.Sprintf("After the copy: %s.", cerr)})
	}
	if out == nil {
		return res, append(diags, providers.Errorf("Copy failed",
			"Copying %s to %s: %s. The target keeps its last complete copy; apply again to retry.", c.Source, c.Target, err))
	}
	used := choice.String() + view.Note
	switch {
	case choice.Method == drives.Passes && !out.Quiet:
		used += fmt.Sprintf("; %d passes, the source was still changing", out.Passes)
		diags = append(diags, providers.Diagnostic{Severity: providers.Warning, Summary: "The source kept changing",
			Detail: fmt.Sprintf("%d passes over %s each found blocks changed during the one before; the copy may not be consistent. Set quiesce, stop the writers, or use a snapshot method.", out.Passes, c.Source)})
	case choice.Method == drives.Passes:
		used += fmt.Sprintf("; %d passes", out.Passes)
	case out.Frozen > 0 || view.Frozen > 0:
		used += fmt.Sprintf("; frozen for %s", (out.Frozen + view.Frozen).Round(time.Millisecond))
	}
	res = copyResult{Copied: true, CopiedAt: out.Manifest.CopiedAt, Generation: out.Manifest.Generation,
		BytesChanged: out.BytesChanged, BlocksChanged: out.BlocksChanged, Digest: out.Manifest.Digest(), Used: used}
	if errors.Is(err, blocks.ErrVerify) {
		diags = append(diags, providers.Errorf("Verify failed",
			"%s. The copy is marked tainted and is not used for restore; the next apply replaces it with a full copy. Check the target drive's health.", err))
	}
	return res, diags
}

// copyProgress turns a copy's progress into an op's.
func copyProgress(p blocks.Progress) host.Progress {
	msg := p.Phase
	if p.Pass > 1 {
		msg = fmt.Sprintf("%s, pass %d", p.Phase, p.Pass)
	}
	return host.Progress{Done: p.Done, Total: p.Total, Unit: "bytes", Message: msg}
}
