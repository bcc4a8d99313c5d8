package network

import (
	"context"
	"errors"
	"path"
	"regexp"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/network/nfsconf"
	"github.com/drover-dr/drover/providers/builtin/network/sambaconf"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// A share with protocol = "nfs" is an NFSv4 export of an NFS-Ganesha
// server at the pseudo path /NAME, in an EXPORT block of a file of
// Drover's own (nfsconf owns those files and the reload). The kernel's
// NFS server (exportfs) is not managed.

// protocol is a share's protocol; a share recorded before shares had
// one is an SMB share.
func protocol(v cty.Value) string {
	if v.IsNull() || !v.Type().IsObjectType() || !known(v.GetAttr("protocol")) {
		return "smb"
	}
	return v.GetAttr("protocol").AsString()
}

// shareServer is the protocol of the share v configures and the settings
// of its server with their defaults: the Samba configuration for SMB,
// the Ganesha configuration and pid file for NFS, the other protocol's
// null.
func shareServer(v cty.Value) map[string]cty.Value {
	or := func(attr, def string) cty.Value {
		if a := v.GetAttr(attr); !a.IsNull() {
			return a
		}
		return cty.StringVal(def)
	}
	// The other protocol's settings are null; one not known yet stays
	// unknown (a share's validation refuses it once known, an identity's
	// settings serve its shares of either protocol).
	null := func(attr string) cty.Value {
		if a := v.GetAttr(attr); !a.IsKnown() {
			return a
		}
		return cty.NullVal(cty.String)
	}
	if p := v.GetAttr("protocol"); !p.IsKnown() {
		// Which defaults apply is not known yet; what is configured stays.
		orUnknown := func(attr string) cty.Value {
			if a := v.GetAttr(attr); !a.IsNull() {
				return a
			}
			return cty.UnknownVal(cty.String)
		}
		return map[string]cty.Value{"protocol": p, "smb_conf": orUnknown("smb_conf"),
			"ganesha_conf": orUnknown("ganesha_conf"), "ganesha_pid_file": orUnknown("ganesha_pid_file")}
	}
	if protocol(v) == "nfs" {
		return map[string]cty.Value{"protocol": cty.StringVal("nfs"), "smb_conf": null("smb_conf"),
			"ganesha_conf": or("ganesha_conf", nfsconf.DefaultMain), "ganesha_pid_file": or("ganesha_pid_file", nfsconf.DefaultPidFile)}
	}
	return map[string]cty.Value{"protocol": cty.StringVal("smb"), "smb_conf": or("smb_conf", sambaconf.DefaultMain),
		"ganesha_conf": null("ganesha_conf"), "ganesha_pid_file": null("ganesha_pid_file")}
}

// shareID is a share's id: HOST:NAME, or HOST:/NAME for NFS, as clients
// name each, so that an SMB and an NFS share of one name are two objects
// (in a network_identity, a share block that changes protocol gives the
// old share back and takes the new one).
func shareID(h, name, protocol cty.Value) cty.Value {
	if !known(h) || !known(name) || !protocol.IsKnown() {
		return cty.UnknownVal(cty.String)
	}
	sep := ":"
	if protocol.RawEquals(cty.StringVal("nfs")) {
		sep = ":/"
	}
	return cty.StringVal(h.GetAttr("name").AsString() + sep + name.AsString())
}

// exportName is what Drover accepts as the name of an NFS share: a
// pseudo path's one component, and a file name.
var exportName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$`)

// validateProtocol checks what depends on the protocol; nfs says whether
// the share is an NFS export, whose arguments it checked all.
func validateProtocol(config cty.Value) (diags providers.Diagnostics, nfs bool) {
	p := config.GetAttr("protocol")
	if !p.IsWhollyKnown() {
		return nil, false
	}
	// An unknown value may be null: only a known one is refused.
	set := func(attr string) bool { v := config.GetAttr(attr); return v.IsKnown() && !v.IsNull() }
	switch protocol(config) {
	case "smb":
		for _, attr := range []string{"ganesha_conf", "ganesha_pid_file"} {
			if set(attr) {
				diags = append(diags, providers.AttrErrorf(cty.GetAttrPath(attr), "Argument for NFS only",
					"%s names an NFS-Ganesha server's file, but this share is an SMB share: remove it, or set protocol = \"nfs\".", attr))
			}
		}
		return diags, false
	case "nfs":
	default:
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("protocol"), "Invalid protocol",
			"%q is not a protocol Drover shares with: \"smb\" (Samba) or \"nfs\" (NFS-Ganesha).", protocol(config))}, false
	}
	if v := config.GetAttr("name"); known(v) && !exportName.MatchString(v.AsString()) {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("name"), "Invalid share name",
			"%q is not an NFS share name: up to 80 letters, digits and . _ -, starting with a letter or digit, e.g. \"data\"; clients mount it as server:/NAME.", v.AsString()))
	}
	for _, attr := range []string{"path", "ganesha_conf", "ganesha_pid_file"} {
		if v := config.GetAttr(attr); known(v) && (!strings.HasPrefix(v.AsString(), "/") || strings.ContainsAny(v.AsString(), "\n\r\"\\")) {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath(attr), "Invalid path",
				"%q is not an absolute path on the host without quotes, backslashes or line breaks.", v.AsString()))
		}
	}
	if v := config.GetAttr("ganesha_conf"); known(v) && (path.Base(v.AsString()) == "exports" || strings.HasPrefix(v.AsString(), "/etc/exports.d/")) {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("ganesha_conf"), "Kernel NFS server not managed",
			"%s is the kernel NFS server's export table (exportfs): Drover manages the exports of NFS-Ganesha only; name the configuration of a ganesha.nfsd here (%s by default).",
			v.AsString(), nfsconf.DefaultMain))
	}
	if set("smb_conf") {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("smb_conf"), "Argument for SMB only",
			"smb_conf names a Samba server's configuration, but this share is an NFS export: remove it, or name the NFS-Ganesha configuration in ganesha_conf."))
	}
	if set("comment") {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("comment"), "Argument for SMB only",
			"NFS exports carry no description clients see: remove comment, or keep it as a comment in the configuration."))
	}
	return diags, true
}

// ganesha is the Drover-managed configuration of the NFS-Ganesha server
// the share v names; close the host when done.
func ganesha(v cty.Value) (nfsconf.Config, providers.Diagnostics) {
	h, err := host.FromValue(v.GetAttr("host"))
	if err != nil {
		return nfsconf.Config{}, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Invalid host", "%s.", upperFirst(err.Error()))}
	}
	attrs := shareServer(v)
	return nfsconf.Config{Host: h, Main: attrs["ganesha_conf"].AsString(), PidFile: attrs["ganesha_pid_file"].AsString()}, nil
}

func exportPart(name string) string { return "export-" + strings.ToLower(name) }

func pseudo(v cty.Value) string { return "/" + v.GetAttr("name").AsString() }

// checkExport refuses an export whose folder is missing, whose pseudo
// path the main configuration already exports or Drover exports for
// another share (for a new one), or whose server does not run.
func checkExport(ctx context.Context, v cty.Value, create bool) providers.Diagnostics {
	c, diags := ganesha(v)
	if diags.HasErrors() {
		return diags
	}
	defer c.Host.Close()
	if diags := checkFolder(ctx, c.Host, v.GetAttr("path").AsString()); diags.HasErrors() {
		return diags
	}
	if create {
		name := v.GetAttr("name").AsString()
		if ok, err := c.Defined(ctx, pseudo(v)); err != nil {
			return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("ganesha_conf"), "Cannot read the NFS-Ganesha configuration", "%s.", upperFirst(err.Error()))}
		} else if ok {
			return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("name"), "Export defined by hand",
				"%s already exports %s: remove that EXPORT block to let Drover manage it, or choose another name.", c.Main, pseudo(v))}
		}
		// Drover's files are named without case: two shares whose names
		// differ only in case would overwrite each other's file.
		if e, found, err := c.Read(ctx, exportPart(name)); err != nil {
			return providers.Diagnostics{providers.Errorf("Cannot read the NFS-Ganesha configuration", "%s.", upperFirst(err.Error()))}
		} else if found {
			return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("name"), "Share managed elsewhere",
				"Drover already exports %s on host %q (%s), for another resource or identity: NFS share names are compared without case; choose another name.",
				e.Pseudo, c.Host.Name(), c.Path(exportPart(name)))}
		}
	}
	if err := c.Ping(ctx); err != nil {
		return ganeshaDiags(err)
	}
	return nil
}

func ganeshaDiags(err error) providers.Diagnostics {
	var nr *nfsconf.NotRunningError
	if errors.As(err, &nr) {
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("ganesha_pid_file"), "ganesha.nfsd is not running", "%s.", err)}
	}
	return providers.Diagnostics{providers.Errorf("Cannot change the NFS-Ganesha configuration", "%s.", upperFirst(err.Error()))}
}

// readExport reads the share's export back from Drover's file: gone when
// the file is, or when it exports another pseudo path.
func readExport(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
	c, diags := ganesha(state)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer c.Host.Close()
	e, found, err := c.Read(ctx, exportPart(state.GetAttr("name").AsString()))
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot read share", "%s.", upperFirst(err.Error()))}
	}
	if !found || e.Pseudo != pseudo(state) {
		return cty.NullVal(state.Type()), nil
	}
	return sdk.SetAttrs(state, map[string]cty.Value{"path": cty.StringVal(e.Path), "read_only": cty.BoolVal(e.ReadOnly)}), nil
}

func putExport(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	v := req.Planned
	if diags := checkExport(ctx, v, req.Prior.IsNull()); diags.HasErrors() {
		return cty.NilVal, diags
	}
	c, diags := ganesha(v)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer c.Host.Close()
	name := v.GetAttr("name").AsString()
	id, err := c.ID(ctx, exportPart(name), name)
	if err != nil {
		return cty.NilVal, ganeshaDiags(err)
	}
	e := nfsconf.Export{ID: id, Path: v.GetAttr("path").AsString(), Pseudo: pseudo(v), ReadOnly: v.GetAttr("read_only").True()}
	if err := c.Put(ctx, exportPart(name), e); err != nil {
		return cty.NilVal, ganeshaDiags(err)
	}
	return v, nil
}

func deleteExport(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
	c, diags := ganesha(req.Prior)
	if diags.HasErrors() {
		return diags
	}
	defer c.Host.Close()
	if err := c.Remove(ctx, exportPart(req.Prior.GetAttr("name").AsString())); err != nil {
		return ganeshaDiags(err)
	}
	return nil
}
