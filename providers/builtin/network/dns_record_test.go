package network

import (
	"slices"
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/network/dnstest"
	"github.com/drover-dr/drover/providers/builtin/network/dnsupdate"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

var recordType = dnsRecordSchema.Block.ImpliedType()

// dnsServers are the real DNS servers the tests run against.
var dnsServers = []struct{ name, exe, pkg string }{
	{"knot", "knotd", "knot"},
	{"bind", "named", "bind9"},
}

type dnsEnv struct {
	t    *testing.T
	p    providers.Provider
	srv  *dnstest.Server
	kdig string
}

func eachDNSServer(t *testing.T, f func(e *dnsEnv)) {
	for _, s := range dnsServers {
		t.Run(s.name, func(t *testing.T) {
			exe := testenv.Command(t, s.exe, s.pkg)
			kdig := testenv.Command(t, "kdig", "knot-dnsutils")
			f(&dnsEnv{t: t, p: sdk.New(New()), srv: dnstest.New(t, exe), kdig: kdig})
		})
	}
}

// config is a dns_record configuration as the decoder gives it, signed
// with the server's key unless attrs set tsig.
func (e *dnsEnv) config(name, typ string, attrs map[string]cty.Value, values ...string) cty.Value {
	m := map[string]cty.Value{}
	for n, ty := range recordType.AttributeTypes() {
		m[n] = cty.NullVal(ty)
	}
	vals := make([]cty.Value, 0, len(values))
	for _, v := range values {
		vals = append(vals, cty.StringVal(v))
	}
	m["server"], m["zone"], m["name"], m["type"] = cty.StringVal(e.srv.Addr), cty.StringVal(dnstest.Zone), cty.StringVal(name), cty.StringVal(typ)
	if len(vals) > 0 {
		m["values"] = cty.SetVal(vals)
	}
	m["tsig"] = cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(e.srv.Key.Name),
		"algorithm": cty.StringVal(e.srv.Key.Algorithm), "secret": cty.StringVal(e.srv.Key.Secret)})
	for k, v := range attrs {
		m[k] = v
	}
	return cty.ObjectVal(m)
}

func (e *dnsEnv) plan(prior, config cty.Value) providers.PlanResponse {
	e.t.Helper()
	resp := e.p.Plan(e.t.Context(), providers.PlanRequest{TypeName: "dns_record", Prior: prior, Config: config})
	if resp.Diagnostics.HasErrors() {
		e.t.Fatalf("plan: %v", resp.Diagnostics)
	}
	return resp
}

func (e *dnsEnv) apply(prior, planned cty.Value) providers.ApplyResponse {
	e.t.Helper()
	return e.p.Apply(e.t.Context(), providers.ApplyRequest{TypeName: "dns_record", Prior: prior, Planned: planned})
}

func (e *dnsEnv) read(state cty.Value) cty.Value {
	e.t.Helper()
	resp := e.p.Read(e.t.Context(), providers.ReadRequest{TypeName: "dns_record", Prior: state})
	if resp.Diagnostics.HasErrors() {
		e.t.Fatalf("read: %v", resp.Diagnostics)
	}
	return resp.New
}

func (e *dnsEnv) dig(name, typ string) []string {
	e.t.Helper()
	got, err := e.srv.Dig(e.t.Context(), e.kdig, name, typ)
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Sort(got)
	return got
}

// errorText is every error diagnostic's summary and detail.
func errorText(diags providers.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		if d.Severity == providers.Error {
			b.WriteString(d.Summary + ": " + d.Detail + "\n")
		}
	}
	return b.String()
}

func TestDNSRecordLifecycle(t *testing.T) {
	eachDNSServer(t, func(e *dnsEnv) {
		none := cty.NullVal(recordType)
		ttl60 := map[string]cty.Value{"ttl": cty.NumberIntVal(60)}

		// The zone holds fs1 A 192.0.2.10 (TTL 300): adopt it by a
		// create? No: a create requires that the record does not exist.
		create := e.plan(none, e.config("fs1", "A", nil, "192.0.2.10"))
		if resp := e.apply(none, create.Planned); !strings.Contains(errorText(resp.Diagnostics), "The record fs1.example.test A changed since the plan: run plan again to see it as it is now; it now holds 192.0.2.10 (TTL 300)") {
			t.Errorf("creating over an existing record: %s", errorText(resp.Diagnostics))
		}

		create = e.plan(none, e.config("app", "A", ttl60, "192.0.2.20"))
		if want := "+ app.example.test A 192.0.2.20 (TTL 60)"; create.Description != want {
			t.Errorf("create description %q, want %q", create.Description, want)
		}
		resp := e.apply(none, create.Planned)
		if resp.Diagnostics.HasErrors() {
			t.Fatalf("create: %s", errorText(resp.Diagnostics))
		}
		if diff := cmp.Diff([]string{"192.0.2.20"}, e.dig("app", "A")); diff != "" {
			t.Errorf("kdig after create (-want +got):\n%s", diff)
		}
		state := e.read(resp.New)
		if !state.RawEquals(resp.New) {
			t.Errorf("read after create differs:\n%#v\n%#v", state, resp.New)
		}

		update := e.plan(state, e.config("app", "A", ttl60, "192.0.2.30"))
		if want := "~ app.example.test A 192.0.2.20 -> 192.0.2.30 (TTL 60)"; update.Description != want {
			t.Errorf("update description %q, want %q", update.Description, want)
		}
		if resp = e.apply(state, update.Planned); resp.Diagnostics.HasErrors() {
			t.Fatalf("update: %s", errorText(resp.Diagnostics))
		}
		if diff := cmp.Diff([]string{"192.0.2.30"}, e.dig("app", "A")); diff != "" {
			t.Errorf("kdig after update (-want +got):\n%s", diff)
		}
		state = resp.New

		// Drift: someone changes the record; refresh sees it, and the plan
		// made from that refresh applies.
		if err := e.srv.Set(t.Context(), "app", "A", 120, "192.0.2.40"); err != nil {
			t.Fatal(err)
		}
		drifted := e.read(state)
		update = e.plan(drifted, e.config("app", "A", ttl60, "192.0.2.30"))
		if want := "~ app.example.test A 192.0.2.40 -> 192.0.2.30 (TTL 120 -> 60)"; update.Description != want {
			t.Errorf("drift description %q, want %q", update.Description, want)
		}
		if resp = e.apply(drifted, update.Planned); resp.Diagnostics.HasErrors() {
			t.Fatalf("update after drift: %s", errorText(resp.Diagnostics))
		}

		if resp = e.apply(resp.New, none); resp.Diagnostics.HasErrors() {
			t.Fatalf("delete: %s", errorText(resp.Diagnostics))
		}
		if got := e.dig("app", "A"); len(got) != 0 {
			t.Errorf("kdig after delete: %v", got)
		}
		if got := e.read(state); !got.IsNull() {
			t.Errorf("read after delete: %#v", got)
		}
	})
}

// TestDNSRecordChangedSincePlan: a record changed behind Drover's back
// after the plan makes the apply refuse, naming what it holds now, and
// leaves the other change in place.
func TestDNSRecordChangedSincePlan(t *testing.T) {
	eachDNSServer(t, func(e *dnsEnv) {
		none := cty.NullVal(recordType)
		prior := e.read(sdk.SetAttrs(e.config("fs1", "A", nil, "192.0.2.10"), names(e.config("fs1", "A", nil))))
		if prior.IsNull() {
			t.Fatal("the zone's fs1 A record is not there")
		}
		planned := e.plan(prior, e.config("fs1", "A", map[string]cty.Value{"ttl": cty.NumberIntVal(60)}, "192.0.2.20"))
		if want := "~ fs1.example.test A 192.0.2.10 -> 192.0.2.20 (TTL 300 -> 60)"; planned.Description != want {
			t.Errorf("description %q, want %q", planned.Description, want)
		}
		if err := e.srv.Set(t.Context(), "fs1", "A", 300, "192.0.2.99"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name           string
			prior, planned cty.Value
		}{
			{"update", prior, planned.Planned},
			{"delete", prior, none},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp := e.apply(tc.prior, tc.planned)
				got := errorText(resp.Diagnostics)
				for _, want := range []string{"fs1.example.test A changed since the plan: run plan again", "it now holds 192.0.2.99 (TTL 300)"} {
					if !strings.Contains(got, want) {
						t.Errorf("the error %q does not say %q", got, want)
					}
				}
				if diff := cmp.Diff([]string{"192.0.2.99"}, e.dig("fs1", "A")); diff != "" {
					t.Errorf("kdig (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestDNSRecordServerErrors(t *testing.T) {
	eachDNSServer(t, func(e *dnsEnv) {
		none := cty.NullVal(recordType)
		key := func(name, secret string) map[string]cty.Value {
			return map[string]cty.Value{"tsig": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(name),
				"algorithm": cty.StringVal("hmac-sha256"), "secret": cty.StringVal(secret)})}
		}
		for _, tc := range []struct {
			name   string
			config cty.Value
			path   cty.Path
			want   []string
		}{
			{"wrong secret", e.config("app", "A", key(e.srv.Key.Name, "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=="), "192.0.2.20"),
				cty.GetAttrPath("tsig"), []string{"BADSIG", "secret and algorithm"}},
			{"unknown key", e.config("app", "A", key("nobody", e.srv.Key.Secret), "192.0.2.20"),
				cty.GetAttrPath("tsig"), []string{"BADKEY", `key "nobody"`}},
			{"zone not served", e.config("app", "A", map[string]cty.Value{"zone": cty.StringVal("other.test")}, "192.0.2.20"),
				cty.GetAttrPath("zone"), []string{"REFUSED", "does not serve the zone other.test", "check the zone name"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// The plan asks the server, signed, and fails.
				resp := e.p.Plan(t.Context(), providers.PlanRequest{TypeName: "dns_record", Prior: none, Config: tc.config})
				got := errorText(resp.Diagnostics)
				for _, want := range tc.want {
					if !strings.Contains(got, want) {
						t.Errorf("the error %q does not say %q", got, want)
					}
				}
				if len(resp.Diagnostics) == 0 || !resp.Diagnostics[0].Path.Equals(tc.path) {
					t.Errorf("the error is not about %#v: %#v", tc.path, resp.Diagnostics)
				}
				if got := e.dig("app", "A"); len(got) != 0 {
					t.Errorf("the record exists all the same: %v", got)
				}
			})
		}
	})
}

func TestDNSRecordValidate(t *testing.T) {
	e := &dnsEnv{t: t, p: sdk.New(New()), srv: &dnstest.Server{Addr: "127.0.0.1:53", Key: dnstestKey}}
	for _, tc := range []struct {
		name   string
		config cty.Value
		want   string
	}{
		{"server without port", e.config("fs1", "A", map[string]cty.Value{"server": cty.StringVal("ns1.example.net")}, "192.0.2.10"), `is not "host:port"`},
		{"IPv6 in an A record", e.config("fs1", "A", nil, "2001:db8::1"), `the value "2001:db8::1" is not an IPv4 address`},
		{"unknown type", e.config("fs1", "MX", nil, "10 mail"), `the type "MX" is not one of A, AAAA, CNAME, TXT, PTR`},
		{"name outside the zone", e.config("fs1.other.test.", "A", nil, "192.0.2.10"), "outside the zone"},
		{"two CNAME values", e.config("www", "CNAME", nil, "a.example.test", "b.example.test"), "exactly one value"},
		{"bad algorithm", e.config("fs1", "A", map[string]cty.Value{"tsig": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("k"),
			"algorithm": cty.StringVal("hmac-md4"), "secret": cty.StringVal("c2VjcmV0")})}, "192.0.2.10"), `"hmac-md4" is not one of`},
		{"secret not base64", e.config("fs1", "A", map[string]cty.Value{"tsig": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("k"),
			"algorithm": cty.StringVal("hmac-sha256"), "secret": cty.StringVal("not base64!")})}, "192.0.2.10"), "not base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.p.Validate(t.Context(), providers.ValidateRequest{Kind: providers.KindResource, TypeName: "dns_record", Config: tc.config})
			if got := errorText(resp.Diagnostics); !strings.Contains(strings.ToLower(got), strings.ToLower(tc.want)) {
				t.Errorf("got %q, want it to say %q", got, tc.want)
			}
		})
	}
}

var dnstestKey = dnsupdate.Key{Name: "k", Algorithm: "hmac-sha256", Secret: "c2VjcmV0"}
