package network

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/network/dnsupdate"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/miekg/dns"
	"github.com/zclconf/go-cty/cty"
)

const defaultTTL = 300

var tsigType = cty.Object(map[string]cty.Type{"name": cty.String, "algorithm": cty.String, "secret": cty.String})

var dnsRecordSchema = &schema.Resource{
	Description: "The records of one name and type in a zone (an RRset), changed on the zone's primary server by RFC 2136 dynamic update, " +
		"signed with TSIG. Every change is conditional on the record still holding what the plan saw.",
	Block: &schema.Block{Attributes: map[string]*schema.Attribute{
		"server": {Type: cty.String, Required: true,
			Description: "The server that takes updates for the zone (its primary), as \"host:port\", e.g. \"ns1.example.net:53\"."},
		"zone": {Type: cty.String, Required: true, ForceNew: true, Description: "The zone, e.g. \"example.test\"."},
		"name": {Type: cty.String, Required: true, ForceNew: true,
			Description: "The name relative to the zone (\"fs1\"), \"@\" for the zone itself, or an absolute name ending in a dot."},
		"type": {Type: cty.String, Required: true, ForceNew: true,
			Description: "The record type: " + strings.Join(dnsupdate.Types, ", ") + "."},
		"ttl": {Type: cty.Number, Optional: true, Computed: true,
			Description: "Time to live in seconds; " + strconv.Itoa(defaultTTL) + " when not set. Keep it short for names a failover moves."},
		"values": {Type: cty.Set(cty.String), Required: true,
			Description: "The records' data: addresses for A and AAAA, a domain name for CNAME and PTR (always absolute), the text for TXT."},
		"tsig": {Type: tsigType, Optional: true, Sensitive: true,
			Description: "The TSIG key that signs updates: { name, algorithm (" + strings.Join(dnsupdate.Algorithms, ", ") + "), secret (base64) }; unsigned when not set."},
		"fqdn": {Type: cty.String, Computed: true, Description: "The record's absolute name, without the final dot."},
		"id":   {Type: cty.String, Computed: true, Description: "FQDN TYPE, e.g. \"fs1.example.test A\"."},
	}},
}

func dnsRecordResource() *sdk.Resource {
	return &sdk.Resource{
		Schema:        dnsRecordSchema,
		Validate:      validateDNSRecord,
		CustomizePlan: planDNSRecord,
		Read:          readDNSRecord,
		Create:        applyDNSRecord,
		Update:        applyDNSRecord,
		Delete:        deleteDNSRecord,
	}
}

// known says whether v is a known, non-null value.
func known(v cty.Value) bool { return v.IsWhollyKnown() && !v.IsNull() }

func validateDNSRecord(ctx context.Context, config cty.Value) providers.Diagnostics {
	var diags providers.Diagnostics
	if v := config.GetAttr("server"); known(v) {
		if _, port, err := net.SplitHostPort(v.AsString()); err != nil || port == "" {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("server"), "Invalid DNS server",
				"The server %q is not \"host:port\", e.g. \"ns1.example.net:53\".", v.AsString()))
		} else if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("server"), "Invalid DNS server",
				"The port %q of the server %q is not a port number.", port, v.AsString()))
		}
	}
	if v := config.GetAttr("ttl"); known(v) {
		if n, acc := v.AsBigFloat().Int64(); acc != big.Exact || n < 0 || n > 1<<31-1 {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("ttl"), "Invalid TTL",
				"The TTL %s is not a whole number of seconds between 0 and 2147483647.", v.AsBigFloat().Text('f', -1)))
		}
	}
	if v := config.GetAttr("tsig"); known(v) {
		if a := v.GetAttr("algorithm").AsString(); !slices.Contains(dnsupdate.Algorithms, strings.ToLower(strings.TrimSuffix(a, "."))) {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("tsig").GetAttr("algorithm"), "Invalid TSIG algorithm",
				"The algorithm %q is not one of %s.", a, strings.Join(dnsupdate.Algorithms, ", ")))
		}
		if _, err := base64.StdEncoding.DecodeString(v.GetAttr("secret").AsString()); err != nil {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("tsig").GetAttr("secret"), "Invalid TSIG secret",
				"The secret is not base64, as tsig-keygen and keymgr print it."))
		}
		if _, ok := dns.IsDomainName(v.GetAttr("name").AsString()); !ok {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("tsig").GetAttr("name"), "Invalid TSIG key name",
				"The key name %q is not a domain name like \"drover\" or \"drover-key.example.test\".", v.GetAttr("name").AsString()))
		}
	}
	for _, name := range []string{"zone", "name", "type", "values"} {
		if !known(config.GetAttr(name)) {
			return diags
		}
	}
	s := rrset(config)
	s.TTL = defaultTTL
	if err := s.Check(); err != nil {
		diags = append(diags, providers.Errorf("Invalid DNS record", "%s.", upperFirst(err.Error())))
	}
	return diags
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// rrset is the RRset v describes; v's zone, name, type and values are
// known, its ttl may be null (0 then).
func rrset(v cty.Value) dnsupdate.RRset {
	s := dnsupdate.RRset{Zone: v.GetAttr("zone").AsString(), Name: v.GetAttr("name").AsString(), Type: v.GetAttr("type").AsString()}
	if ttl := v.GetAttr("ttl"); known(ttl) {
		n, _ := ttl.AsBigFloat().Int64()
		s.TTL = uint32(n)
	}
	for _, e := range v.GetAttr("values").AsValueSlice() {
		s.Values = append(s.Values, e.AsString())
	}
	slices.Sort(s.Values)
	return s
}

// client talks to the server v names, with v's key.
func client(v cty.Value) *dnsupdate.Client {
	c := &dnsupdate.Client{Server: v.GetAttr("server").AsString()}
	if t := v.GetAttr("tsig"); !t.IsNull() {
		t, _ = t.Unmark()
		c.Key = &dnsupdate.Key{Name: t.GetAttr("name").AsString(), Algorithm: t.GetAttr("algorithm").AsString(), Secret: t.GetAttr("secret").AsString()}
	}
	return c
}

// names are the computed fqdn and id of v, unknown until zone, name and
// type are known.
func names(v cty.Value) map[string]cty.Value {
	for _, name := range []string{"zone", "name", "type"} {
		if !known(v.GetAttr(name)) {
			return map[string]cty.Value{"fqdn": cty.UnknownVal(cty.String), "id": cty.UnknownVal(cty.String)}
		}
	}
	s := dnsupdate.RRset{Zone: v.GetAttr("zone").AsString(), Name: v.GetAttr("name").AsString(), Type: v.GetAttr("type").AsString()}
	fqdn := strings.TrimSuffix(s.FQDN(), ".")
	return map[string]cty.Value{"fqdn": cty.StringVal(fqdn), "id": cty.StringVal(fqdn + " " + s.Type)}
}

// planDNSRecord defaults the TTL and describes what moves, e.g.
// "~ fs1.example.test A 192.0.2.10 -> 192.0.2.20 (TTL 60)".
func planDNSRecord(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
	attrs := names(p.Config)
	if p.Config.GetAttr("ttl").IsNull() {
		attrs["ttl"] = cty.NumberIntVal(defaultTTL)
	}
	p.Planned = sdk.SetAttrs(p.Planned, attrs)
	if !p.Planned.IsWhollyKnown() {
		return nil
	}
	next := rrset(p.Planned)
	fqdn := strings.TrimSuffix(next.FQDN(), ".")
	switch {
	case p.Prior.IsNull():
		// Nothing was read for a create: ask the server now (signed, as
		// the update will be), so that a wrong key, zone or address fails
		// the plan at its configuration line instead of the apply. Whether
		// the record exists is no error here: a replace plans its create
		// while the old record is still there.
		if _, _, err := client(p.Planned).Query(ctx, next); err != nil {
			return dnsDiags(p.Planned, "Cannot reach the DNS record", err)
		}
		p.Description = fmt.Sprintf("+ %s %s %s (TTL %d)", fqdn, next.Type, strings.Join(next.Values, ", "), next.TTL)
	default:
		prior := rrset(p.Prior)
		if prior.TTL == next.TTL && next.SameValues(prior.Values, next.Values) {
			return nil
		}
		ttl := strconv.Itoa(int(next.TTL))
		if prior.TTL != next.TTL {
			ttl = fmt.Sprintf("%d -> %d", prior.TTL, next.TTL)
		}
		p.Description = fmt.Sprintf("~ %s %s %s -> %s (TTL %s)", fqdn, next.Type,
			strings.Join(prior.Values, ", "), strings.Join(next.Values, ", "), ttl)
	}
	return nil
}

// readDNSRecord reads the RRset back from the server: gone when it has no
// records, and its values and TTL as found. Values the server spells
// otherwise (an IPv6 address in another case, a name without its final
// dot) keep the state's spelling, so that an unchanged record plans no
// change.
func readDNSRecord(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
	s := rrset(state)
	got, found, err := client(state).Query(ctx, s)
	if err != nil {
		return cty.NilVal, dnsDiags(state, "Cannot read DNS record", err)
	}
	if !found {
		return cty.NullVal(state.Type()), nil
	}
	attrs := map[string]cty.Value{"ttl": cty.NumberIntVal(int64(got.TTL))}
	if !s.SameValues(s.Values, got.Values) {
		vals := make([]cty.Value, 0, len(got.Values))
		for _, v := range got.Values {
			vals = append(vals, cty.StringVal(v))
		}
		attrs["values"] = cty.SetVal(vals)
	}
	return sdk.SetAttrs(state, attrs), nil
}

func applyDNSRecord(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	next := rrset(req.Planned)
	var prior *dnsupdate.RRset
	if !req.Prior.IsNull() {
		p := rrset(req.Prior)
		prior = &p
	}
	if err := client(req.Planned).Replace(ctx, prior, &next); err != nil {
		return cty.NilVal, dnsDiags(req.Planned, "Cannot change DNS record", changed(ctx, req.Planned, err))
	}
	return sdk.SetAttrs(req.Planned, names(req.Planned)), nil
}

// deleteDNSRecord removes the RRset if it still holds what the state
// says; one already gone is deleted.
func deleteDNSRecord(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
	prior := rrset(req.Prior)
	c := client(req.Prior)
	err := c.Replace(ctx, &prior, nil)
	if errors.Is(err, dnsupdate.ErrChanged) {
		if _, found, qerr := c.Query(ctx, prior); qerr == nil && !found {
			return nil
		}
	}
	if err != nil {
		return dnsDiags(req.Prior, "Cannot delete DNS record", changed(ctx, req.Prior, err))
	}
	return nil
}

// changed adds to ErrChanged what the record holds now.
func changed(ctx context.Context, v cty.Value, err error) error {
	if !errors.Is(err, dnsupdate.ErrChanged) {
		return err
	}
	s := rrset(v)
	got, found, qerr := client(v).Query(ctx, s)
	switch {
	case qerr != nil:
		return err
	case !found:
		return fmt.Errorf("the record %w; it no longer exists", err)
	default:
		slices.Sort(got.Values)
		return fmt.Errorf("the record %w; it now holds %s (TTL %d)", err, strings.Join(got.Values, ", "), got.TTL)
	}
}

// dnsDiags turns err into a diagnostic about the attribute it concerns.
func dnsDiags(v cty.Value, summary string, err error) providers.Diagnostics {
	var path cty.Path
	var rerr *dnsupdate.RcodeError
	var nerr *dnsupdate.NoAnswerError
	switch {
	case errors.As(err, &rerr) && (rerr.TSIGError != 0 || rerr.Serves || rerr.Rcode == dns.RcodeRefused && rerr.Op == "update"):
		path = cty.GetAttrPath("tsig") // the key, or its rights
	case errors.As(err, &rerr) && (rerr.Rcode == dns.RcodeNotAuth || rerr.Rcode == dns.RcodeNotZone || rerr.Rcode == dns.RcodeRefused || rerr.Rcode == dns.RcodeSuccess):
		path = cty.GetAttrPath("zone")
	case errors.As(err, &nerr):
		path = cty.GetAttrPath("server")
	case errors.Is(err, dnsupdate.ErrChanged):
		path = cty.GetAttrPath("values")
	}
	return providers.Diagnostics{providers.AttrErrorf(path, summary, "%s.", upperFirst(err.Error()))}
}
