package planner

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"

	"github.com/drover-dr/drover/drill"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers/builtin/network/dnsupdate"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// isolatedTypes are the resource types a drill knows how to isolate.
var isolatedTypes = []string{"file", "ip_address", "dns_record", "share", "host_name", "network_identity", "vm_guest"}

// isolateResources makes the step's resources be created in the drill's
// own place, never where production has them: a file in the drill's
// folder of its host (Folder/isolated as the host's root), an address in
// the drill's network namespace standing in for its host's network, a
// DNS record on the drill's DNS server or in its zone, a host name in the
// drill's UTS namespace beside that network namespace, a share (and
// NetBIOS aliases) in the drill's Samba configuration; records and shares
// as the step's override in the drill block names them; a QEMU guest on
// clones of its disks, with no NIC, its console in the drill's folder.
func (dp *drillPlanner) isolateResources(s *plan.Step) {
	if !dp.isolate {
		dp.fail(s, "Step holds resources", "its resources would be created for real; set isolate = true in the runbook's drill block to create them in the drill's own place")
		return
	}
	ov, ok := dp.resourceOverride(s)
	if !ok {
		return
	}
	var where []string
	for _, c := range s.Changes {
		if c.Action != plan.Create {
			dp.fail(s, "Step resource exists", fmt.Sprintf("%s is in the state already (a failover in force holds it): a drill creates its own, isolated, and plans %s for it instead; fail back first", c.Addr, c.Action))
			return
		}
		attrs := c.After.AsValueMap()
		var w string
		var err error
		ov.renamed = false
		switch c.Addr.Resource.Type {
		case "file":
			w, err = dp.isolateFile(attrs)
		case "ip_address":
			w, err = dp.isolateAddresses(c.Addr.String(), attrs, []map[string]cty.Value{attrs})
		case "dns_record":
			w, err = ov.record(attrs)
		case "share":
			if w, err = ov.samba(attrs, "share "+attrs["name"].AsString()); err == nil {
				w += dp.serveClones(attrs["host"], []map[string]cty.Value{attrs})
			}
		case "network_identity":
			w, err = dp.isolateIdentity(c.Addr.String(), attrs, ov)
		case "vm_guest":
			w, err = dp.isolateGuest(c.Addr.String(), attrs)
			// Its description names production's disks and console.
			ov.renamed = true
		case "host_name":
			if w, err = dp.isolateName(c.Addr.String(), attrs); err == nil && hasAliases(attrs) {
				var sw string
				sw, err = ov.samba(attrs, "its NetBIOS aliases")
				w += ", its NetBIOS aliases " + sw
			}
		default:
			err = fmt.Errorf("a drill isolates resources of type %s only, and this is a %s", strings.Join(isolatedTypes, ", "), c.Addr.Resource.Type)
		}
		if err != nil {
			dp.fail(s, "Step resource not isolated", fmt.Sprintf("%s: %s", c.Addr, err))
			return
		}
		// The provider described the change as production would see it:
		// a description naming what the drill does otherwise (a record's
		// name in the drill zone, an address not released from the old
		// holder, a guest's disks) is dropped; the summary says what the
		// drill does.
		if r, ok := attrs["release_from"]; ov.renamed || ok && !r.RawEquals(c.After.GetAttr("release_from")) {
			c.Description = ""
		}
		c.After = cty.ObjectVal(attrs)
		where = append(where, c.Addr.String()+" "+w)
	}
	for _, name := range ov.unused() {
		dp.fail(s, "Override not used", fmt.Sprintf("its override in the drill block sets %s, which none of its resources has: remove it", name))
	}
	s.Summary += ", isolated: " + strings.Join(where, "; ")
}

// localHost reads the host of a resource's attributes, which a drill can
// isolate only on the machine Drover runs on.
func localHost(attrs map[string]cty.Value) (host.Config, error) {
	cfg, err := host.ConfigFromValue(attrs["host"])
	if err == nil && cfg.EffectiveTransport() != "local" {
		err = fmt.Errorf("host %q is reached over %s: a drill isolates resources of local hosts only", cfg.Name, cfg.EffectiveTransport())
	}
	return cfg, err
}

// isolateFile roots a file's host in the drill's folder of it.
func (dp *drillPlanner) isolateFile(attrs map[string]cty.Value) (string, error) {
	cfg, err := localHost(attrs)
	if err != nil {
		return "", err
	}
	root := cfg.Root
	if root == "" {
		root = "/"
	}
	cfg.Root = path.Join(root, dp.d.Folder, "isolated")
	attrs["host"] = cfg.Value()
	if !slices.Contains(dp.d.Isolated, cfg.Name) {
		dp.d.Isolated = append(dp.d.Isolated, cfg.Name)
	}
	return fmt.Sprintf("in %s on %s", path.Join(dp.d.Folder, "isolated"), cfg.Name), nil
}

// isolateAddresses moves the host of attrs (an ip_address, or a
// network_identity whose address blocks are addrs) into the drill's
// network namespace for it, with the interfaces the addresses go on.
func (dp *drillPlanner) isolateAddresses(what string, attrs map[string]cty.Value, addrs []map[string]cty.Value) (string, error) {
	cfg, err := localHost(attrs)
	if err != nil {
		return "", err
	}
	ns := dp.namespace(cfg.Name)
	var ifaces []string
	for _, a := range addrs {
		ifname, want := a["interface"].AsString(), a["address"].AsString()
		p, err := netip.ParsePrefix(want)
		if err != nil {
			return "", fmt.Errorf("the address %q: %w", want, err)
		}
		i := slices.IndexFunc(ns.Interfaces, func(i plan.DrillInterface) bool { return i.Name == ifname })
		if i < 0 {
			ns.Interfaces = append(ns.Interfaces, plan.DrillInterface{Name: ifname})
			i = len(ns.Interfaces) - 1
		}
		// The subnets production's interface has for the address, for the
		// step's subnet check to pass in the drill as it did in the plan;
		// never the address itself, which the step takes.
		have, err := drill.InterfaceAddrs(dp.ctx, host.NewLocal(DrillMachine, ""), cfg.Netns, ifname)
		if err != nil {
			return "", err
		}
		for _, h := range have {
			if h.Masked().Contains(p.Addr()) && h.Addr() != p.Addr() && !slices.Contains(ns.Interfaces[i].Addresses, h.String()) {
				ns.Interfaces[i].Addresses = append(ns.Interfaces[i].Addresses, h.String())
			}
		}
		if !slices.Contains(ifaces, ifname) {
			ifaces = append(ifaces, ifname)
		}
	}
	if !slices.Contains(ns.For, what) {
		ns.For = append(ns.For, what)
	}
	cfg.Netns = ns.Name
	attrs["host"] = cfg.Value()
	return fmt.Sprintf("in the drill's network namespace %s (%s)", ns.Name, strings.Join(ifaces, ", ")), nil
}

// namespace is the drill's network namespace standing in for the network
// of host hostName, planned once: named after the drill and the host.
func (dp *drillPlanner) namespace(hostName string) *plan.DrillNamespace {
	for _, ns := range dp.d.Namespaces {
		if ns.Host == hostName {
			return ns
		}
	}
	ns := &plan.DrillNamespace{Host: hostName, Name: "drover-drill-" + path.Base(dp.d.Folder) + "-" + hostName}
	dp.d.Namespaces = append(dp.d.Namespaces, ns)
	return ns
}

// isolateName moves the host of attrs (a host_name, or a network_identity
// taking one) into the drill's network namespace for it, whose UTS
// namespace holds the host name: production keeps its own.
func (dp *drillPlanner) isolateName(what string, attrs map[string]cty.Value) (string, error) {
	cfg, err := localHost(attrs)
	if err != nil {
		return "", err
	}
	ns := dp.namespace(cfg.Name)
	ns.UTS = true
	if !slices.Contains(ns.For, what) {
		ns.For = append(ns.For, what)
	}
	cfg.Netns = ns.Name
	attrs["host"] = cfg.Value()
	return "in the drill's UTS namespace " + cfg.UTSPin(), nil
}

// isolateGuest starts a QEMU guest's copy in the drill: on the drill's
// clones of its disks (qcow2 overlays where there are no reflinks), its
// console and state (pidfile, QMP socket) under the drill's folder, where
// the teardown finds it. QEMU guests run with no NIC, so the copy reaches
// no network. Libvirt and vSphere guests run under their hypervisor,
// beside production's, and are refused.
func (dp *drillPlanner) isolateGuest(what string, attrs map[string]cty.Value) (string, error) {
	if hv := attrs["hypervisor"]; !hv.IsNull() && hv.AsString() != "qemu" {
		return "", fmt.Errorf("a drill starts QEMU guests only: a %s guest would be defined on production's hypervisor, with its networks and storage, which a drill does not isolate yet; drill the guest with hypervisor = \"qemu\", or a runbook without it", hv.AsString())
	}
	cfg, err := localHost(attrs)
	if err != nil {
		return "", err
	}
	if !attrs["disks"].IsWhollyKnown() || !attrs["name"].IsKnown() {
		return "", errors.New("its disks or name are not known until apply; a drill plans guests whose disks and console are known")
	}
	if bc := attrs["boot_check"]; !bc.IsNull() && bc.IsKnown() && !bc.GetAttr("tcp").IsNull() {
		return "", fmt.Errorf("its boot check connects to %s, but a drill's guest has no NIC: the check would fail, or reach production's service and pass; check its console (boot_check { serial = ... }) instead", bc.GetAttr("tcp").AsString())
	}
	if len(blockMaps(attrs["shared_folder"])) > 0 {
		return "", errors.New("a drill does not start guests with shared folders yet (their images are made from production's folders at each start); drill the guest without them")
	}
	var disks []cty.Value
	var clones []string
	for _, d := range attrs["disks"].AsValueSlice() {
		c := dp.clone(attrs["host"], d.AsString(), true, what)
		if c == nil {
			return "", fmt.Errorf("its disk %s cannot be cloned (above)", d.AsString())
		}
		disks = append(disks, cty.StringVal(c.Path))
		clones = append(clones, c.Path)
	}
	attrs["disks"] = cty.ListVal(disks)
	name := path.Base(strings.TrimSuffix(what, "/"))
	if n := attrs["name"]; !n.IsNull() {
		name = n.AsString()
	}
	g := &plan.DrillGuest{For: what, Host: cfg.Name, StateDir: path.Join(dp.d.Folder, "guests", name+".qemu"), Serial: path.Join(dp.d.Folder, "guests", name+".serial")}
	attrs["serial"], attrs["state_dir"] = cty.StringVal(g.Serial), cty.StringVal(g.StateDir)
	attrs["id"] = cty.StringVal(cfg.Name + ":" + g.StateDir)
	w := fmt.Sprintf("on the drill's clones of its disks (%s), with no NIC, its console %s", strings.Join(clones, ", "), g.Serial)
	if sg := attrs["source_guest"]; !sg.IsNull() {
		// Production's guest runs on: the copy shares neither its disks
		// nor a network with it.
		attrs["source_guest"] = cty.NullVal(sg.Type())
		w += ", not waiting for its source guest (production)"
	}
	dp.d.Guests = append(dp.d.Guests, g)
	if !slices.Contains(dp.d.Isolated, cfg.Name) {
		dp.d.Isolated = append(dp.d.Isolated, cfg.Name)
	}
	return w, nil
}

// isolateIdentity isolates a network_identity's parts: its addresses in
// the drill's namespace, its records and shares as the override says. The
// old holder's addresses are not released: that host is production.
func (dp *drillPlanner) isolateIdentity(what string, attrs map[string]cty.Value, ov *resourceOverride) (string, error) {
	var where []string
	if addrs := blockMaps(attrs["address"]); len(addrs) > 0 {
		w, err := dp.isolateAddresses(what, attrs, addrs)
		if err != nil {
			return "", err
		}
		where = append(where, "its addresses "+w)
	}
	if n := attrs["host_name"]; !n.IsNull() {
		w, err := dp.isolateName(what, attrs)
		if err != nil {
			return "", err
		}
		where = append(where, "its host name "+w)
	}
	if records := blockMaps(attrs["dns_record"]); len(records) > 0 {
		var ws []string
		for _, r := range records {
			w, err := ov.record(r)
			if err != nil {
				return "", err
			}
			ws = append(ws, w)
		}
		attrs["dns_record"] = blockList(attrs["dns_record"], records)
		where = append(where, "its DNS records "+strings.Join(slices.Compact(ws), ", "))
	}
	if len(blockMaps(attrs["share"])) > 0 || hasAliases(attrs) {
		w, err := ov.samba(attrs, "its shares and NetBIOS aliases")
		if err != nil {
			return "", err
		}
		shares := blockMaps(attrs["share"])
		w += dp.serveClones(attrs["host"], shares)
		if len(shares) > 0 {
			attrs["share"] = blockList(attrs["share"], shares)
		}
		where = append(where, "its shares and NetBIOS aliases "+w)
	}
	if r := attrs["release_from"]; !r.IsNull() {
		from, _ := host.ConfigFromValue(r)
		attrs["release_from"] = cty.NullVal(r.Type())
		where = append(where, fmt.Sprintf("nothing released on %s (production)", from.Name))
	}
	return strings.Join(where, "; "), nil
}

// hasAliases says a host_name or network_identity's attributes give
// NetBIOS aliases.
func hasAliases(attrs map[string]cty.Value) bool {
	a := attrs["netbios_aliases"]
	return !a.IsNull() && a.IsKnown() && a.LengthInt() > 0
}

// serveClones points shares (their attributes) at the drill's clones of
// their folders, where it has one (a replica the runbook depends on), so
// that the drill's Samba server never serves production's data; it says
// which, for the step's summary.
func (dp *drillPlanner) serveClones(hostVal cty.Value, shares []map[string]cty.Value) string {
	cfg, err := host.ConfigFromValue(hostVal)
	if err != nil {
		return ""
	}
	var served []string
	for _, sh := range shares {
		if c := dp.index[cfg.Name+"\x00"+sh["path"].AsString()]; c != nil {
			served = append(served, fmt.Sprintf("%s from the clone %s", sh["name"].AsString(), c.Path))
			sh["path"] = cty.StringVal(c.Path)
		}
	}
	if len(served) == 0 {
		return ""
	}
	return ", serving " + strings.Join(served, ", ")
}

// blockMaps are the elements of a nested block list, as maps.
func blockMaps(l cty.Value) []map[string]cty.Value {
	if l.IsNull() || !l.IsKnown() {
		return nil
	}
	var out []map[string]cty.Value
	for _, b := range l.AsValueSlice() {
		out = append(out, b.AsValueMap())
	}
	return out
}

// blockList is the nested block list l with elements ms.
func blockList(l cty.Value, ms []map[string]cty.Value) cty.Value {
	vs := make([]cty.Value, len(ms))
	for i, m := range ms {
		vs[i] = cty.ObjectVal(m)
	}
	if l.Type().IsListType() {
		return cty.ListVal(vs)
	}
	return cty.TupleVal(vs)
}

// resourceOverride is what a step's override in the drill block gives its
// resources (lang.DrillResourceArgs): where its DNS records and Samba
// configuration are in the drill.
type resourceOverride struct {
	step     string
	server   cty.Value
	zone     cty.Value
	tsig     cty.Value
	smbConf  cty.Value
	used     map[string]bool
	declared []string
	// renamed says a record of the resource at hand moved to the drill
	// zone, which changes its name.
	renamed bool
}

// resourceOverride evaluates the resource arguments of s's override, if
// any; ok is false when that failed (the diagnostics say why).
func (dp *drillPlanner) resourceOverride(s *plan.Step) (*resourceOverride, bool) {
	ov := &resourceOverride{step: s.Name, server: cty.NullVal(cty.String), zone: cty.NullVal(cty.String), tsig: cty.NilVal,
		smbConf: cty.NullVal(cty.String), used: map[string]bool{}}
	var o *lang.DrillOverride
	if d := dp.rb.Drill; d != nil {
		if i := slices.IndexFunc(d.Overrides, func(o *lang.DrillOverride) bool { return o.Step == s.Name }); i >= 0 {
			o = d.Overrides[i]
		}
	}
	if o == nil {
		return ov, true
	}
	for _, name := range lang.DrillResourceArgs {
		a := o.Attrs[name]
		if a == nil {
			continue
		}
		ov.declared = append(ov.declared, name)
		var v cty.Value
		var diags hcl.Diagnostics
		if name == "tsig" {
			v, diags = evalKnown(dp.scope, a.Expr, cty.Object(map[string]cty.Type{"name": cty.String, "algorithm": cty.String, "secret": cty.String}))
		} else {
			v, diags = evalKnown(dp.scope, a.Expr, cty.String)
		}
		if diags.HasErrors() {
			dp.diags = append(dp.diags, diags...)
			return nil, false
		}
		switch name {
		case "server":
			ov.server = v
		case "zone":
			ov.zone = v
		case "tsig":
			ov.tsig = v
		case "smb_conf":
			ov.smbConf = v
		}
	}
	return ov, true
}

// unused lists the arguments the override sets that no resource took.
func (ov *resourceOverride) unused() []string {
	var out []string
	for _, name := range ov.declared {
		if !ov.used[name] {
			out = append(out, name)
		}
	}
	return out
}

// record points a DNS record's attributes (a dns_record, or a
// network_identity's dns_record block) at the drill's server or zone.
// Without either, or with production's, it is refused: a drill never
// updates the zone production answers from.
func (ov *resourceOverride) record(attrs map[string]cty.Value) (string, error) {
	for _, name := range []string{"server", "zone", "tsig"} {
		ov.used[name] = true
	}
	server, zone := attrs["server"], attrs["zone"]
	if !ov.server.IsNull() {
		server = ov.server
	}
	if !ov.zone.IsNull() {
		zone = ov.zone
	}
	if server.Equals(attrs["server"]).True() && zone.Equals(attrs["zone"]).True() {
		return "", fmt.Errorf("a drill never updates the production zone %s on %s: set server (a drill's own DNS server) or zone (a drill zone) in override %q of the drill block",
			attrs["zone"].AsString(), attrs["server"].AsString(), "step."+ov.step)
	}
	name := attrs["name"].AsString()
	if strings.HasSuffix(name, ".") && !zone.Equals(attrs["zone"]).True() {
		return "", fmt.Errorf("the record's name %s is absolute, outside the drill zone %s: name it relative to its zone", name, zone.AsString())
	}
	ov.renamed = ov.renamed || !zone.RawEquals(attrs["zone"])
	attrs["server"], attrs["zone"] = server, zone
	if ov.tsig != cty.NilVal {
		attrs["tsig"] = ov.tsig
	}
	if _, ok := attrs["fqdn"]; ok {
		// A dns_record's computed names follow its zone.
		s := dnsupdate.RRset{Zone: zone.AsString(), Name: name, Type: attrs["type"].AsString()}
		fqdn := strings.TrimSuffix(s.FQDN(), ".")
		attrs["fqdn"], attrs["id"] = cty.StringVal(fqdn), cty.StringVal(fqdn+" "+s.Type)
	}
	return fmt.Sprintf("on the drill's DNS server %s in zone %s", server.AsString(), zone.AsString()), nil
}

// samba points a share or identity's Samba configuration at the drill's
// own, which the override must name: a drill never changes the Samba
// server production's clients use.
func (ov *resourceOverride) samba(attrs map[string]cty.Value, what string) (string, error) {
	ov.used["smb_conf"] = true
	// An NFS share is served by production's NFS-Ganesha server, which no
	// override names.
	shares := append(blockMaps(attrs["share"]), attrs)
	if slices.ContainsFunc(shares, func(s map[string]cty.Value) bool {
		p, ok := s["protocol"]
		return ok && p.RawEquals(cty.StringVal("nfs"))
	}) {
		return "", fmt.Errorf("a drill does not isolate NFS exports: %s would change production's NFS-Ganesha server; drill the step without its NFS shares", what)
	}
	if ov.smbConf.IsNull() || ov.smbConf.Equals(attrs["smb_conf"]).True() {
		return "", fmt.Errorf("%s would change production's Samba server (%s): a drill needs a Samba server of its own; set smb_conf in override %q of the drill block to its configuration",
			what, attrs["smb_conf"].AsString(), "step."+ov.step)
	}
	attrs["smb_conf"] = ov.smbConf
	return "in the drill's Samba configuration " + ov.smbConf.AsString(), nil
}
