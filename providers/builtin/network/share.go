package network

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/network/nfsconf"
	"github.com/drover-dr/drover/providers/builtin/network/sambaconf"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

var shareSchema = &schema.Resource{
	Description: "An SMB share of a Samba server, or an NFS export of an NFS-Ganesha server: a section or EXPORT block in a configuration file of Drover's own " +
		"that the server's configuration includes, loaded without a restart.",
	Block: &schema.Block{Attributes: map[string]*schema.Attribute{
		"host": {Type: host.Type, Required: true, ForceNew: true, Description: "The host that runs smbd or ganesha.nfsd, e.g. host.fs2."},
		"name": {Type: cty.String, Required: true, ForceNew: true, Description: "The share's name, as clients name it: \\\\server\\NAME, or server:/NAME for NFS."},
		"protocol": {Type: cty.String, Optional: true, Computed: true,
			Description: "\"smb\" (Samba) or \"nfs\" (NFS-Ganesha, NFSv4); \"smb\" when not set. Changing it replaces the share."},
		"path": {Type: cty.String, Required: true, Description: "The folder the share serves; it must exist."},
		"read_only": {Type: cty.Bool, Optional: true, Computed: true,
			Description: "Clients may only read (Samba's read only); true when not set, as in Samba."},
		"comment": {Type: cty.String, Optional: true, Description: "The description clients see in share lists."},
		"smb_conf": {Type: cty.String, Optional: true, Computed: true, ForceNew: true,
			Description: "The Samba server's main configuration file; " + sambaconf.DefaultMain + " when not set. Drover's files go in drover.d beside it."},
		"ganesha_conf": {Type: cty.String, Optional: true, Computed: true, ForceNew: true,
			Description: "For NFS: the NFS-Ganesha server's main configuration file; " + nfsconf.DefaultMain + " when not set. Drover's files go in drover.d beside it."},
		"ganesha_pid_file": {Type: cty.String, Optional: true, Computed: true,
			Description: "For NFS: the file ganesha.nfsd writes its pid to, which Drover signals to reload; " + nfsconf.DefaultPidFile + " when not set."},
		"id": {Type: cty.String, Computed: true, Description: "HOST:NAME, or HOST:/NAME for NFS."},
	}},
}

func shareResource() *sdk.Resource {
	return &sdk.Resource{
		Schema:        shareSchema,
		Validate:      validateShare,
		CustomizePlan: planShare,
		Read:          readShare,
		Create:        putShare,
		Update:        putShare,
		Delete:        deleteShare,
	}
}

// shareName is what Drover accepts as a share name: what every SMB client
// takes, and a file name.
var shareName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._$-]{0,79}$`)

func validateShare(ctx context.Context, config cty.Value) providers.Diagnostics {
	diags := wholeMachine(config.GetAttr("host"), "shares")
	if d, nfs := validateProtocol(config); d != nil || nfs {
		return append(diags, d...)
	}
	if v := config.GetAttr("name"); known(v) {
		switch n := v.AsString(); {
		case !shareName.MatchString(n):
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("name"), "Invalid share name",
				"%q is not a share name: up to 80 letters, digits, spaces and . _ $ -, starting with a letter or digit, e.g. \"data\".", n))
		case strings.EqualFold(n, "global"), strings.EqualFold(n, "homes"), strings.EqualFold(n, "printers"):
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("name"), "Invalid share name",
				"%q names one of Samba's special sections (global, homes, printers), not a share: choose another name.", n))
		}
	}
	for _, attr := range []string{"path", "smb_conf"} {
		if v := config.GetAttr(attr); known(v) && (!strings.HasPrefix(v.AsString(), "/") || strings.ContainsAny(v.AsString(), "\n\r")) {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath(attr), "Invalid path", "%q is not an absolute path on the host.", v.AsString()))
		}
	}
	if v := config.GetAttr("comment"); known(v) && strings.ContainsAny(v.AsString(), "\n\r") {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("comment"), "Invalid comment", "A share's comment is one line."))
	}
	return diags
}

// wholeMachine refuses a host rooted at a folder: Samba and the kernel
// name files as the machine does, so paths below a root would name
// other files in smbd's configuration than in Drover's.
func wholeMachine(h cty.Value, what string) providers.Diagnostics {
	if !known(h) {
		return nil
	}
	c, err := host.ConfigFromValue(h)
	if err != nil || c.Root == "" {
		return nil
	}
	return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Host rooted at a folder",
		"Host %q is rooted at %s, but %s act on the whole machine, which names its files from /: use a host block without root.", c.Name, c.Root, what)}
}

// samba is the Drover-managed configuration of the Samba server v (a
// share or host name) names; close the host when done.
func samba(v cty.Value) (sambaconf.Config, providers.Diagnostics) {
	h, err := host.FromValue(v.GetAttr("host"))
	if err != nil {
		return sambaconf.Config{}, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s.", upperFirst(err.Error()))}
	}
	main := sambaconf.DefaultMain
	if c := v.GetAttr("smb_conf"); known(c) {
		main = c.AsString()
	}
	return sambaconf.Config{Host: h, Main: main}, nil
}

func sharePart(name string) string { return "share-" + strings.ToLower(name) }

func shareSection(v cty.Value) sambaconf.Section {
	s := sambaconf.Section{Name: v.GetAttr("name").AsString(), Params: []sambaconf.Param{
		{Key: "path", Value: v.GetAttr("path").AsString()},
		{Key: "read only", Value: yesNo(v.GetAttr("read_only").True())},
	}}
	if c := v.GetAttr("comment"); !c.IsNull() {
		s.Params = append(s.Params, sambaconf.Param{Key: "comment", Value: c.AsString()})
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// planShare defaults read_only and smb_conf and describes the change,
// e.g. "+ share data on fs2: /srv/data (read-only)". A create or a new
// path is checked against the host as it is now, so that a missing folder
// or an smbd that does not run fails the plan at its configuration line.
func planShare(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
	attrs := shareServer(p.Config)
	if p.Config.GetAttr("read_only").IsNull() {
		attrs["read_only"] = cty.True
	}
	// protocol is not ForceNew in the schema: a share recorded before
	// shares had one (null) is an SMB share, replaced only by an NFS one.
	if !p.Prior.IsNull() && protocol(p.Prior) != protocol(p.Config) {
		p.RequiresReplace = append(p.RequiresReplace, cty.GetAttrPath("protocol"))
	}
	attrs["id"] = shareID(p.Config.GetAttr("host"), p.Config.GetAttr("name"), attrs["protocol"])
	p.Planned = sdk.SetAttrs(p.Planned, attrs)
	if !p.Planned.IsWhollyKnown() {
		return nil
	}
	if !p.Prior.IsNull() && p.Prior.RawEquals(p.Planned) {
		return nil
	}
	check := checkShare
	if protocol(p.Planned) == "nfs" {
		check = checkExport
	}
	if diags := check(ctx, p.Planned, p.Prior.IsNull()); diags.HasErrors() {
		return diags
	}
	p.Description = describeShare(p.Prior, p.Planned)
	return nil
}

func describeShare(prior, planned cty.Value) string {
	mode := func(v cty.Value) string {
		m := "read-write"
		if v.GetAttr("read_only").True() {
			m = "read-only"
		}
		if protocol(v) == "nfs" {
			return "NFS, " + m
		}
		return m
	}
	where := fmt.Sprintf("share %s on %s", planned.GetAttr("name").AsString(), planned.GetAttr("host").GetAttr("name").AsString())
	if prior.IsNull() {
		return fmt.Sprintf("+ %s: %s (%s)", where, planned.GetAttr("path").AsString(), mode(planned))
	}
	var what []string
	if a, b := prior.GetAttr("path").AsString(), planned.GetAttr("path").AsString(); a != b {
		what = append(what, a+" -> "+b)
	}
	if a, b := mode(prior), mode(planned); a != b {
		what = append(what, a+" -> "+b)
	}
	if !prior.GetAttr("comment").RawEquals(planned.GetAttr("comment")) {
		what = append(what, "comment")
	}
	return fmt.Sprintf("~ %s: %s", where, strings.Join(what, ", "))
}

// checkShare refuses a share whose folder is missing, whose name the
// main configuration already defines (for a new share), or whose server
// does not answer.
func checkShare(ctx context.Context, v cty.Value, create bool) providers.Diagnostics {
	c, diags := samba(v)
	if diags.HasErrors() {
		return diags
	}
	defer c.Host.Close()
	if diags := checkFolder(ctx, c.Host, v.GetAttr("path").AsString()); diags.HasErrors() {
		return diags
	}
	if create {
		name := v.GetAttr("name").AsString()
		if ok, err := c.Defined(ctx, name); err != nil {
			return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("smb_conf"), "Cannot read the Samba configuration", "%s.", upperFirst(err.Error()))}
		} else if ok {
			return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("name"), "Share defined by hand",
				"%s already defines the share [%s]: remove it there to let Drover manage it, or choose another name.", c.Main, name)}
		}
		// Share names are compared without case: two resources naming one
		// share would overwrite each other's file.
		if sections, found, err := c.Read(ctx, sharePart(name)); err == nil && found && len(sections) > 0 {
			return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("name"), "Share managed elsewhere",
				"Drover already manages the share [%s] on host %q (%s), for another resource or identity: share names are compared without case; choose another name.",
				sections[0].Name, c.Host.Name(), c.Path(sharePart(name)))}
		}
	}
	if err := c.Ping(ctx); err != nil {
		return sambaDiags(err)
	}
	return nil
}

func sambaDiags(err error) providers.Diagnostics {
	var nr *sambaconf.NotRunningError
	if errors.As(err, &nr) {
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("smb_conf"), "smbd is not running", "%s.", err)}
	}
	return providers.Diagnostics{providers.Errorf("Cannot change the Samba configuration", "%s.", upperFirst(err.Error()))}
}

// readShare reads the share's section back from Drover's file: gone when
// the file or the section is, and its parameters as found.
func readShare(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
	if protocol(state) == "nfs" {
		return readExport(ctx, state)
	}
	// A share recorded before shares had a protocol is an SMB share.
	state = sdk.SetAttrs(state, map[string]cty.Value{"protocol": cty.StringVal("smb")})
	c, diags := samba(state)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer c.Host.Close()
	name := state.GetAttr("name").AsString()
	sections, found, err := c.Read(ctx, sharePart(name))
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot read share", "%s.", upperFirst(err.Error()))}
	}
	for _, s := range sections {
		if !found || !strings.EqualFold(s.Name, name) {
			continue
		}
		attrs := map[string]cty.Value{"path": cty.StringVal(""), "comment": cty.NullVal(cty.String), "read_only": cty.True}
		if p, ok := s.Get("path"); ok {
			attrs["path"] = cty.StringVal(p)
		}
		if p, ok := s.Get("comment"); ok {
			attrs["comment"] = cty.StringVal(p)
		}
		if p, ok := s.Get("read only"); ok {
			attrs["read_only"] = cty.BoolVal(sambaBool(p))
		}
		return sdk.SetAttrs(state, attrs), nil
	}
	return cty.NullVal(state.Type()), nil
}

// sambaBool reads a boolean as Samba does.
func sambaBool(s string) bool {
	switch strings.ToLower(s) {
	case "yes", "true", "1", "on":
		return true
	}
	return false
}

func putShare(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	v := req.Planned
	if protocol(v) == "nfs" {
		return putExport(ctx, req)
	}
	if diags := checkShare(ctx, v, req.Prior.IsNull()); diags.HasErrors() {
		return cty.NilVal, diags
	}
	c, diags := samba(v)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer c.Host.Close()
	if err := c.Put(ctx, sharePart(v.GetAttr("name").AsString()), []sambaconf.Section{shareSection(v)}); err != nil {
		return cty.NilVal, sambaDiags(err)
	}
	return v, nil
}

func deleteShare(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
	if protocol(req.Prior) == "nfs" {
		return deleteExport(ctx, req)
	}
	c, diags := samba(req.Prior)
	if diags.HasErrors() {
		return diags
	}
	defer c.Host.Close()
	if err := c.Remove(ctx, sharePart(req.Prior.GetAttr("name").AsString())); err != nil {
		return sambaDiags(err)
	}
	return nil
}

// checkFolder refuses a share of a folder that is missing or a file.
func checkFolder(ctx context.Context, h host.Host, dir string) providers.Diagnostics {
	f, err := h.OpenFile(ctx, dir, os.O_RDONLY, 0)
	if err == nil {
		fi, serr := f.Stat()
		f.Close()
		if serr == nil && !fi.IsDir() {
			err = fmt.Errorf("%s on host %q is a file, not a folder", dir, h.Name())
		}
		err = errors.Join(err, serr)
	} else if errors.Is(err, os.ErrNotExist) {
		err = fmt.Errorf("there is no folder %s on host %q: create it (or restore the data into it) before sharing it", dir, h.Name())
	}
	if err != nil {
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("path"), "Invalid share path", "%s.", upperFirst(err.Error()))}
	}
	return nil
}
