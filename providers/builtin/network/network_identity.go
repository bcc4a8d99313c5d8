package network

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/network/sambaconf"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// A network_identity is its parts, each planned, taken, read and given
// back by the code of the resource type it is an instance of (ip_address,
// dns_record, host_name, share): the identity only orders them and builds
// their values. Its blocks carry the parts' arguments without host and
// smb_conf, which the identity gives them all.

var identityAddressBlock = &schema.Block{Attributes: map[string]*schema.Attribute{
	"interface": ipAddressSchema.Block.Attributes["interface"],
	"address":   ipAddressSchema.Block.Attributes["address"],
	"force":     ipAddressSchema.Block.Attributes["force"],
	"announce": {Type: cty.Bool, Optional: true,
		Description: "Announce the address once taken: gratuitous ARP (IPv4), an unsolicited neighbour advertisement (IPv6); true when not set."},
}}

var identityRecordBlock = &schema.Block{Attributes: map[string]*schema.Attribute{
	"server": dnsRecordSchema.Block.Attributes["server"],
	"zone":   dnsRecordSchema.Block.Attributes["zone"],
	"name":   dnsRecordSchema.Block.Attributes["name"],
	"type":   dnsRecordSchema.Block.Attributes["type"],
	"ttl": {Type: cty.Number, Optional: true,
		Description: "Time to live in seconds; " + fmt.Sprint(defaultTTL) + " when not set."},
	"values": dnsRecordSchema.Block.Attributes["values"],
	"tsig":   dnsRecordSchema.Block.Attributes["tsig"],
}}

var identityShareBlock = &schema.Block{Attributes: map[string]*schema.Attribute{
	"name": shareSchema.Block.Attributes["name"],
	"path": shareSchema.Block.Attributes["path"],
	"read_only": {Type: cty.Bool, Optional: true,
		Description: "Clients may only read (Samba's read only); true when not set, as in Samba."},
	"comment": shareSchema.Block.Attributes["comment"],
	"protocol": {Type: cty.String, Optional: true,
		Description: "\"smb\" (the Samba server of smb_conf) or \"nfs\" (the NFS-Ganesha server of ganesha_conf); \"smb\" when not set."},
}}

// replacedType is a DNS record as the identity found it before taking it
// over, given back on destroy.
var replacedType = cty.Object(map[string]cty.Type{"id": cty.String, "ttl": cty.Number, "values": cty.Set(cty.String)})

var identitySchema = &schema.Resource{
	Description: "A server's network identity as one object: host name and NetBIOS aliases, IP addresses, DNS records and SMB or NFS shares, " +
		"taken over in the order a takeover needs (release on the old holder, probe, add, announce, DNS, name, shares) and given back in reverse.",
	Block: &schema.Block{
		Attributes: map[string]*schema.Attribute{
			"host": {Type: host.Type, Required: true, ForceNew: true, Description: "The host that takes the identity, e.g. host.fs2."},
			"release_from": {Type: host.Type, Optional: true,
				Description: "The old holder, e.g. host.fs1: its addresses are removed there first where it is reachable (a host that is down is passed over with a warning)."},
			"host_name": {Type: cty.String, Optional: true, Description: "The system host name to take, e.g. \"fs1\"; left as it is when not set."},
			"netbios_aliases": {Type: cty.List(cty.String), Optional: true,
				Description: "NetBIOS names the host's Samba server answers to besides its own, e.g. [\"FS1\"]."},
			"smb_conf": {Type: cty.String, Optional: true, Computed: true, ForceNew: true,
				Description: "The Samba server's main configuration file, for shares and aliases; " + sambaconf.DefaultMain + " when not set."},
			"ganesha_conf":       {Type: cty.String, Optional: true, Description: shareSchema.Block.Attributes["ganesha_conf"].Description},
			"ganesha_pid_file":   {Type: cty.String, Optional: true, Description: shareSchema.Block.Attributes["ganesha_pid_file"].Description},
			"previous_host_name": {Type: cty.String, Computed: true, Description: "The host name taken over from, given back on destroy."},
			"replaced_records": {Type: cty.List(replacedType), Computed: true,
				Description: "The DNS records as they were before the takeover (id, ttl, values), given back on destroy; records that did not exist are deleted."},
			"id": {Type: cty.String, Computed: true, Description: "The host's name in the configuration."},
		},
		BlockTypes: map[string]*schema.NestedBlock{
			"address":    {Block: *identityAddressBlock, Nesting: schema.NestingList},
			"dns_record": {Block: *identityRecordBlock, Nesting: schema.NestingList},
			"share":      {Block: *identityShareBlock, Nesting: schema.NestingList},
		},
	},
}

func identityResource() *sdk.Resource {
	return &sdk.Resource{
		Schema:         identitySchema,
		Validate:       validateIdentity,
		CustomizePlan:  planIdentity,
		Read:           readIdentity,
		Create:         applyIdentity,
		Update:         applyIdentity,
		Delete:         deleteIdentity,
		DescribeDelete: describeIdentityDelete,
	}
}

// identity is a network_identity value taken apart into the values of
// its parts, each a value of its part's resource type.
type identity struct {
	addresses, records, shares []cty.Value
	// name is null when the identity sets no host name nor aliases.
	name cty.Value
}

// blocks are the elements of the nested block list v.GetAttr(name).
func blocks(v cty.Value, name string) []cty.Value {
	l := v.GetAttr(name)
	if l.IsNull() || !l.IsKnown() {
		return nil
	}
	return l.AsValueSlice()
}

// partValue is a value of the resource type typ: attrs, every other
// attribute null.
func partValue(typ string, attrs map[string]cty.Value) cty.Value {
	m := map[string]cty.Value{}
	for n, ty := range New().Resources[typ].Schema.Block.ImpliedType().AttributeTypes() {
		m[n] = cty.NullVal(ty)
		if v, ok := attrs[n]; ok {
			m[n] = v
		}
	}
	return cty.ObjectVal(m)
}

// with copies the attributes of a block into attrs.
func with(attrs map[string]cty.Value, block cty.Value) map[string]cty.Value {
	for n := range block.Type().AttributeTypes() {
		attrs[n] = block.GetAttr(n)
	}
	return attrs
}

func orTrue(v cty.Value) cty.Value {
	if v.IsNull() {
		return cty.True
	}
	return v
}

// parts takes v apart on the host h (v's own, or release_from's for the
// addresses to release there). Parts get the defaults their own plans
// would give them, so that their values compare with what they read back.
func parts(v cty.Value, h cty.Value) identity {
	smbConf := v.GetAttr("smb_conf")
	if smbConf.IsNull() {
		smbConf = cty.StringVal(sambaconf.DefaultMain)
	}
	var id identity
	for _, b := range blocks(v, "address") {
		a := partValue("ip_address", with(map[string]cty.Value{"host": h}, b))
		id.addresses = append(id.addresses, sdk.SetAttrs(a, map[string]cty.Value{"announce": orTrue(b.GetAttr("announce")), "id": ipAddressID(a)}))
	}
	for _, b := range blocks(v, "dns_record") {
		r := partValue("dns_record", with(map[string]cty.Value{}, b))
		if r.GetAttr("ttl").IsNull() {
			r = sdk.SetAttrs(r, map[string]cty.Value{"ttl": cty.NumberIntVal(defaultTTL)})
		}
		id.records = append(id.records, sdk.SetAttrs(r, names(r)))
	}
	for _, b := range blocks(v, "share") {
		s := partValue("share", with(map[string]cty.Value{"host": h, "smb_conf": smbConf,
			"ganesha_conf": v.GetAttr("ganesha_conf"), "ganesha_pid_file": v.GetAttr("ganesha_pid_file")}, b))
		s = sdk.SetAttrs(s, shareServer(s))
		sid := shareID(h, s.GetAttr("name"), s.GetAttr("protocol"))
		id.shares = append(id.shares, sdk.SetAttrs(s, map[string]cty.Value{"read_only": orTrue(b.GetAttr("read_only")), "id": sid}))
	}
	id.name = cty.NullVal(hostNameSchema.Block.ImpliedType())
	if n, a := v.GetAttr("host_name"), v.GetAttr("netbios_aliases"); !n.IsNull() || !a.IsNull() {
		id.name = partValue("host_name", map[string]cty.Value{"host": h, "name": n, "netbios_aliases": a,
			"smb_conf": smbConf, "previous": v.GetAttr("previous_host_name"), "id": h.GetAttr("name")})
	}
	return id
}

// within moves diagnostics about a part's attributes under the identity's
// path of that part, so that they name its configuration line.
func within(diags providers.Diagnostics, prefix cty.Path) providers.Diagnostics {
	for i := range diags {
		p := append(cty.Path{}, prefix...)
		if len(diags[i].Path) > 0 {
			// The part's host and servers' files are the identity's.
			if a, ok := diags[i].Path[0].(cty.GetAttrStep); ok && slices.Contains([]string{"host", "smb_conf", "ganesha_conf", "ganesha_pid_file"}, a.Name) {
				p = cty.Path{}
			}
		}
		diags[i].Path = append(p, diags[i].Path...)
	}
	return diags
}

// nameDiags moves diagnostics of the host name part to the identity's
// attributes: its name is host_name, the rest keep their names.
func nameDiags(diags providers.Diagnostics) providers.Diagnostics {
	for i := range diags {
		if len(diags[i].Path) > 0 && diags[i].Path[0] == (cty.GetAttrStep{Name: "name"}) {
			diags[i].Path = append(cty.GetAttrPath("host_name"), diags[i].Path[1:]...)
		}
	}
	return diags
}

func validateIdentity(ctx context.Context, config cty.Value) providers.Diagnostics {
	var diags providers.Diagnostics
	h := config.GetAttr("host")
	if !known(h) {
		h = host.Config{Name: "unknown"}.Value()
	}
	id := parts(config, h)
	for i, a := range id.addresses {
		diags = append(diags, within(validateIPAddress(ctx, a), cty.GetAttrPath("address").IndexInt(i))...)
	}
	for i, r := range id.records {
		diags = append(diags, within(validateDNSRecord(ctx, r), cty.GetAttrPath("dns_record").IndexInt(i))...)
	}
	for i, s := range id.shares {
		diags = append(diags, within(validateShare(ctx, s), cty.GetAttrPath("share").IndexInt(i))...)
	}
	if !id.name.IsNull() {
		if n := id.name.GetAttr("name"); n.IsNull() && known(config.GetAttr("netbios_aliases")) {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("netbios_aliases"), "Missing host name",
				"NetBIOS aliases come with the host name they belong to: set host_name too."))
		} else if !n.IsNull() {
			diags = append(diags, nameDiags(validateHostName(ctx, id.name))...)
		}
	}
	return diags
}

// planIdentity describes what moves, one line per part that changes, in
// the order the apply takes them, after checking each part as its own
// plan does (the interface and its subnets, the DNS server and key, the
// share's folder, smbd).
func planIdentity(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
	var diags providers.Diagnostics
	attrs := map[string]cty.Value{"id": cty.UnknownVal(cty.String)}
	if p.Config.GetAttr("smb_conf").IsNull() {
		attrs["smb_conf"] = cty.StringVal(sambaconf.DefaultMain)
	}
	if h := p.Config.GetAttr("host"); known(h) {
		attrs["id"] = h.GetAttr("name")
	}
	// What the computed attributes will hold: no previous host name
	// without a host name; replaced records change only when the records
	// taken over do.
	if n := p.Config.GetAttr("host_name"); n.IsKnown() && n.IsNull() {
		attrs["previous_host_name"] = cty.NullVal(cty.String)
	}
	if !p.Prior.IsNull() && !sameRecords(p.Prior, p.Config) {
		attrs["replaced_records"] = cty.UnknownVal(cty.List(replacedType))
	}
	p.Planned = sdk.SetAttrs(p.Planned, attrs)
	for _, attr := range []string{"host", "release_from", "host_name", "netbios_aliases", "smb_conf", "ganesha_conf", "ganesha_pid_file", "address", "dns_record", "share"} {
		if !p.Planned.GetAttr(attr).IsWhollyKnown() {
			return nil
		}
	}
	h := p.Planned.GetAttr("host")
	next := parts(p.Planned, h)
	prior := identity{name: cty.NullVal(hostNameSchema.Block.ImpliedType())}
	if !p.Prior.IsNull() {
		prior = parts(p.Prior, p.Prior.GetAttr("host"))
	}
	var lines []string
	from := ""
	if r := p.Planned.GetAttr("release_from"); !r.IsNull() {
		from = ", released from " + r.GetAttr("name").AsString()
	}
	for i, a := range next.addresses {
		if findPart(prior.addresses, a) != nil {
			continue
		}
		part := &sdk.Plan{Prior: cty.NullVal(a.Type()), Config: a, Planned: a}
		if d := within(planIPAddress(ctx, part), cty.GetAttrPath("address").IndexInt(i)); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		lines = append(lines, strings.TrimSuffix(part.Description, ")")+from+")")
	}
	for i, r := range next.records {
		was := findPart(prior.records, r)
		if was == nil {
			// A record the identity takes over is changed from what the
			// server holds now.
			now, d := readDNSRecord(ctx, r)
			if d.HasErrors() {
				diags = append(diags, within(d, cty.GetAttrPath("dns_record").IndexInt(i))...)
				continue
			}
			was = &now
		}
		part := &sdk.Plan{Prior: *was, Config: r, Planned: r}
		if d := within(planDNSRecord(ctx, part), cty.GetAttrPath("dns_record").IndexInt(i)); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		if part.Description != "" {
			lines = append(lines, part.Description)
		}
	}
	if !next.name.IsNull() && !next.name.RawEquals(prior.name) {
		part := &sdk.Plan{Prior: prior.name, Config: next.name, Planned: next.name}
		if prior.name.IsNull() {
			part.Prior = cty.NullVal(next.name.Type())
		}
		if d := nameDiags(planHostName(ctx, part)); d.HasErrors() {
			diags = append(diags, d...)
		} else if part.Description != "" {
			lines = append(lines, part.Description)
		}
	}
	for i, s := range next.shares {
		was := findPart(prior.shares, s)
		part := &sdk.Plan{Prior: cty.NullVal(s.Type()), Config: s, Planned: s}
		if was != nil {
			part.Prior = *was
		}
		if d := within(planShare(ctx, part), cty.GetAttrPath("share").IndexInt(i)); d.HasErrors() {
			diags = append(diags, d...)
		} else if part.Description != "" {
			lines = append(lines, part.Description)
		}
	}
	if r := p.Planned.GetAttr("release_from"); !r.IsNull() && len(next.addresses) > 0 {
		diags = append(diags, checkOldHolder(ctx, r)...)
	}
	lines = append(lines, releasedLines(prior, next)...)
	if len(lines) > 0 {
		verb := "take over"
		if !p.Prior.IsNull() {
			verb = "change"
		}
		p.Description = fmt.Sprintf("%s the identity on %s:\n%s", verb, h.GetAttr("name").AsString(), strings.Join(lines, "\n"))
	}
	return diags
}

// checkOldHolder refuses an old holder (release_from) whose machine
// cannot run the address ops: its addresses could never be released
// there. One that cannot be reached now is only warned of: it is most
// likely the failed server, and the apply tries again.
func checkOldHolder(ctx context.Context, from cty.Value) providers.Diagnostics {
	path := cty.GetAttrPath("release_from")
	c, err := host.ConfigFromValue(from)
	if err != nil {
		return providers.Diagnostics{providers.AttrErrorf(path, "Invalid host", "%s.", upperFirst(err.Error()))}
	}
	h, err := c.OpenContext(ctx)
	if err == nil {
		defer h.Close()
		err = host.CanCall(ctx, h)
	}
	switch {
	case errors.Is(err, host.ErrNoOps):
		return providers.Diagnostics{noAgent(path, from, err)}
	case err != nil:
		return providers.Diagnostics{{Severity: providers.Warning, Summary: "Old holder not reached",
			Detail: fmt.Sprintf("%s. The apply tries again to release the addresses there, and passes over it if it still does not answer: the probe decides.", upperFirst(err.Error())),
			Path:   path}}
	}
	return nil
}

// sameRecords says whether a and b name the same DNS records (zone, name
// and type), whatever their values.
func sameRecords(a, b cty.Value) bool {
	key := func(v cty.Value) (string, bool) {
		l := v.GetAttr("dns_record")
		if !l.IsWhollyKnown() {
			return "", false
		}
		var keys []string
		for _, r := range blocks(v, "dns_record") {
			keys = append(keys, names(partValue("dns_record", with(map[string]cty.Value{}, r)))["id"].AsString())
		}
		slices.Sort(keys)
		return strings.Join(keys, "\n"), true
	}
	ka, oka := key(a)
	kb, okb := key(b)
	return oka && okb && ka == kb
}

// releasedLines describe the parts of prior that next no longer has, in
// the order they are given back.
func releasedLines(prior, next identity) []string {
	var lines []string
	for _, s := range reversed(prior.shares) {
		if findPart(next.shares, s) == nil {
			lines = append(lines, fmt.Sprintf("- share %s on %s", s.GetAttr("name").AsString(), s.GetAttr("host").GetAttr("name").AsString()))
		}
	}
	if !prior.name.IsNull() && next.name.IsNull() {
		lines = append(lines, fmt.Sprintf("- host name %s (back to %s)", prior.name.GetAttr("name").AsString(), prior.name.GetAttr("previous").AsString()))
	}
	for _, r := range reversed(prior.records) {
		if findPart(next.records, r) == nil {
			lines = append(lines, "- "+r.GetAttr("id").AsString())
		}
	}
	for _, a := range reversed(prior.addresses) {
		if findPart(next.addresses, a) == nil {
			lines = append(lines, fmt.Sprintf("- %s on %s:%s", a.GetAttr("address").AsString(), a.GetAttr("host").GetAttr("name").AsString(), a.GetAttr("interface").AsString()))
		}
	}
	return lines
}

func reversed(vs []cty.Value) []cty.Value {
	out := make([]cty.Value, len(vs))
	for i, v := range vs {
		out[len(vs)-1-i] = v
	}
	return out
}

// findPart is the part among vs that is v's object (the same id), or nil.
func findPart(vs []cty.Value, v cty.Value) *cty.Value {
	for i := range vs {
		if vs[i].GetAttr("id").RawEquals(v.GetAttr("id")) {
			return &vs[i]
		}
	}
	return nil
}

func describeIdentityDelete(ctx context.Context, prior cty.Value) (string, providers.Diagnostics) {
	lines := releasedLines(parts(prior, prior.GetAttr("host")), identity{name: cty.NullVal(hostNameSchema.Block.ImpliedType())})
	if len(lines) == 0 {
		return "", nil
	}
	return "give back the identity:\n" + strings.Join(lines, "\n"), nil
}

// readIdentity reads every part back: a part no longer held drops out of
// the identity (the next plan takes it again), one changed shows as
// changed. A DNS record holding again what it held before the takeover
// is not held. An identity none of whose parts is held is gone.
func readIdentity(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
	var diags providers.Diagnostics
	id := parts(state, state.GetAttr("host"))
	replaced := replacedRecords(state)
	attrs := map[string]cty.Value{}
	held := false
	keep := func(name string, vs []cty.Value, read func(context.Context, cty.Value) (cty.Value, providers.Diagnostics), back func(part, orig, got cty.Value) (cty.Value, bool)) {
		orig := blocks(state, name)
		var out []cty.Value
		for i, v := range vs {
			got, d := read(ctx, v)
			diags = append(diags, within(d, cty.GetAttrPath(name).IndexInt(i))...)
			if d.HasErrors() {
				out = append(out, orig[i])
			} else if !got.IsNull() {
				if b, ok := back(v, orig[i], got); ok {
					out = append(out, b)
				}
			}
		}
		held = held || len(out) > 0
		if len(out) == 0 {
			attrs[name] = cty.ListValEmpty(state.GetAttr(name).Type().ElementType())
		} else {
			attrs[name] = cty.ListVal(out)
		}
	}
	keep("address", id.addresses, readIPAddress, func(_, orig, got cty.Value) (cty.Value, bool) {
		return sdk.SetAttrs(orig, map[string]cty.Value{"address": got.GetAttr("address")}), true
	})
	keep("dns_record", id.records, readDNSRecord, func(part, orig, got cty.Value) (cty.Value, bool) {
		if e, ok := replaced[part.GetAttr("id").AsString()]; ok && !sameData(e, part) && sameData(e, got) {
			return cty.NilVal, false
		}
		m := map[string]cty.Value{"values": got.GetAttr("values")}
		if !orig.GetAttr("ttl").IsNull() || !got.GetAttr("ttl").RawEquals(cty.NumberIntVal(defaultTTL)) {
			m["ttl"] = got.GetAttr("ttl")
		}
		return sdk.SetAttrs(orig, m), true
	})
	keep("share", id.shares, readShare, func(_, orig, got cty.Value) (cty.Value, bool) {
		m := map[string]cty.Value{"path": got.GetAttr("path"), "comment": got.GetAttr("comment")}
		if !orig.GetAttr("read_only").IsNull() || !got.GetAttr("read_only").True() {
			m["read_only"] = got.GetAttr("read_only")
		}
		return sdk.SetAttrs(orig, m), true
	})
	if !id.name.IsNull() {
		got, d := readHostName(ctx, id.name)
		diags = append(diags, nameDiags(d)...)
		if !d.HasErrors() {
			if n := state.GetAttr("host_name"); !n.IsNull() {
				attrs["host_name"] = got.GetAttr("name")
				held = held || got.GetAttr("name").RawEquals(n)
			}
			attrs["netbios_aliases"] = got.GetAttr("netbios_aliases")
		}
	}
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	if !held {
		return cty.NullVal(state.Type()), nil
	}
	return sdk.SetAttrs(state, attrs), diags
}

// replacedRecords are the records v took over as they were before, by id.
func replacedRecords(v cty.Value) map[string]cty.Value {
	replaced := map[string]cty.Value{}
	if r := v.GetAttr("replaced_records"); known(r) {
		for _, e := range r.AsValueSlice() {
			replaced[e.GetAttr("id").AsString()] = e
		}
	}
	return replaced
}

// sameData says whether two records (or replaced records) hold the same
// TTL and values.
func sameData(a, b cty.Value) bool {
	return a.GetAttr("ttl").RawEquals(b.GetAttr("ttl")) && a.GetAttr("values").RawEquals(b.GetAttr("values"))
}

// applyIdentity moves the identity from what prior holds to what planned
// says: first what planned no longer has is given back (in reverse
// order), then the rest is taken in the order a takeover needs. If a step
// fails, the steps this apply took are undone in reverse, so that the
// identity is either moved or left as it was.
func applyIdentity(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	v := req.Planned
	h := v.GetAttr("host")
	next := parts(v, h)
	prior := identity{name: cty.NullVal(hostNameSchema.Block.ImpliedType())}
	replaced := map[string]cty.Value{}
	if !req.Prior.IsNull() {
		prior = parts(req.Prior, req.Prior.GetAttr("host"))
		replaced = replacedRecords(req.Prior)
	}
	if diags := release(ctx, prior, next, replaced); diags.HasErrors() {
		return cty.NilVal, diags
	}

	var diags providers.Diagnostics
	var undo []func()
	fail := func(d providers.Diagnostics) (cty.Value, providers.Diagnostics) {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		return cty.NilVal, append(diags, d...)
	}

	if from := v.GetAttr("release_from"); !from.IsNull() {
		old := parts(v, from)
		for i, a := range old.addresses {
			if findPart(prior.addresses, next.addresses[i]) != nil {
				continue
			}
			if d := deleteIPAddress(ctx, sdk.ApplyRequest{Prior: a}); d.HasErrors() {
				diags = append(diags, providers.Diagnostic{Severity: providers.Warning, Summary: "Old holder not reached",
					Detail: fmt.Sprintf("Releasing %s on %s: %s. Taking it over all the same, after the probe.",
						a.GetAttr("address").AsString(), from.GetAttr("name").AsString(), strings.TrimSuffix(d[0].Detail, ".")),
					Path: cty.GetAttrPath("release_from")})
			}
		}
	}
	for i, a := range next.addresses {
		if findPart(prior.addresses, a) != nil {
			continue
		}
		if _, d := addIPAddress(ctx, sdk.ApplyRequest{Prior: cty.NullVal(a.Type()), Planned: a}); d.HasErrors() {
			return fail(within(d, cty.GetAttrPath("address").IndexInt(i)))
		}
		undo = append(undo, func() { deleteIPAddress(ctx, sdk.ApplyRequest{Prior: a}) })
	}
	for i, r := range next.records {
		was := findPart(prior.records, r)
		if was == nil {
			// Taken over from whatever the server holds now, which is
			// recorded to be given back.
			now, d := readDNSRecord(ctx, r)
			if d.HasErrors() {
				return fail(within(d, cty.GetAttrPath("dns_record").IndexInt(i)))
			}
			if !now.IsNull() {
				replaced[r.GetAttr("id").AsString()] = cty.ObjectVal(map[string]cty.Value{"id": r.GetAttr("id"), "ttl": now.GetAttr("ttl"), "values": now.GetAttr("values")})
			}
			was = &now
		} else if was.RawEquals(r) {
			continue
		}
		if _, d := applyDNSRecord(ctx, sdk.ApplyRequest{Prior: *was, Planned: r}); d.HasErrors() {
			return fail(within(d, cty.GetAttrPath("dns_record").IndexInt(i)))
		}
		before := *was
		undo = append(undo, func() {
			if before.IsNull() {
				deleteDNSRecord(ctx, sdk.ApplyRequest{Prior: r})
			} else {
				applyDNSRecord(ctx, sdk.ApplyRequest{Prior: r, Planned: before})
			}
		})
	}
	if !next.name.IsNull() && !next.name.RawEquals(prior.name) {
		var got cty.Value
		var d providers.Diagnostics
		if prior.name.IsNull() {
			got, d = createHostName(ctx, sdk.ApplyRequest{Prior: cty.NullVal(next.name.Type()), Planned: next.name})
		} else {
			got, d = updateHostName(ctx, sdk.ApplyRequest{Prior: prior.name, Planned: next.name})
		}
		if d.HasErrors() {
			return fail(nameDiags(d))
		}
		v = sdk.SetAttrs(v, map[string]cty.Value{"previous_host_name": got.GetAttr("previous")})
		if prior.name.IsNull() {
			undo = append(undo, func() { deleteHostName(ctx, sdk.ApplyRequest{Prior: got}) })
		}
	}
	for i, s := range next.shares {
		was := findPart(prior.shares, s)
		if was != nil && was.RawEquals(s) {
			continue
		}
		req := sdk.ApplyRequest{Prior: cty.NullVal(s.Type()), Planned: s}
		if was != nil {
			req.Prior = *was
		}
		if _, d := putShare(ctx, req); d.HasErrors() {
			return fail(within(d, cty.GetAttrPath("share").IndexInt(i)))
		}
		if was == nil {
			undo = append(undo, func() { deleteShare(ctx, sdk.ApplyRequest{Prior: s}) })
		}
	}

	var kept []cty.Value
	for _, r := range next.records {
		if e, ok := replaced[r.GetAttr("id").AsString()]; ok {
			kept = append(kept, e)
		}
	}
	out := cty.ListValEmpty(replacedType)
	if len(kept) > 0 {
		out = cty.ListVal(kept)
	}
	attrs := map[string]cty.Value{"replaced_records": out}
	if next.name.IsNull() {
		attrs["previous_host_name"] = cty.NullVal(cty.String)
	} else if prior.name.RawEquals(next.name) {
		attrs["previous_host_name"] = req.Prior.GetAttr("previous_host_name")
	}
	return sdk.SetAttrs(v, attrs), diags
}

// release gives back, in reverse order, the parts of prior that next no
// longer has: shares, the host name (back to the one it replaced), DNS
// records (back to what they held before), addresses.
func release(ctx context.Context, prior, next identity, replaced map[string]cty.Value) providers.Diagnostics {
	for _, s := range reversed(prior.shares) {
		if findPart(next.shares, s) == nil {
			if d := deleteShare(ctx, sdk.ApplyRequest{Prior: s}); d.HasErrors() {
				return d
			}
		}
	}
	if !prior.name.IsNull() && next.name.IsNull() {
		if d := deleteHostName(ctx, sdk.ApplyRequest{Prior: prior.name}); d.HasErrors() {
			return d
		}
	}
	for _, r := range reversed(prior.records) {
		if findPart(next.records, r) != nil {
			continue
		}
		e, ok := replaced[r.GetAttr("id").AsString()]
		if !ok {
			if d := deleteDNSRecord(ctx, sdk.ApplyRequest{Prior: r}); d.HasErrors() {
				return d
			}
			continue
		}
		back := sdk.SetAttrs(r, map[string]cty.Value{"ttl": e.GetAttr("ttl"), "values": e.GetAttr("values")})
		// Given back already (by an apply interrupted after it): done.
		if now, d := readDNSRecord(ctx, back); !d.HasErrors() && !now.IsNull() && sameData(now, back) {
			continue
		}
		if _, d := applyDNSRecord(ctx, sdk.ApplyRequest{Prior: r, Planned: back}); d.HasErrors() {
			return d
		}
	}
	for _, a := range reversed(prior.addresses) {
		if findPart(next.addresses, a) == nil {
			if d := deleteIPAddress(ctx, sdk.ApplyRequest{Prior: a}); d.HasErrors() {
				return d
			}
		}
	}
	return nil
}

func deleteIdentity(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
	return release(ctx, parts(req.Prior, req.Prior.GetAttr("host")), identity{name: cty.NullVal(hostNameSchema.Block.ImpliedType())}, replacedRecords(req.Prior))
}
