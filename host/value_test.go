package host

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestConfigValueRoundTrip(t *testing.T) {
	tests := []Config{
		{Name: "fs1", Transport: "local"},
		{Name: "fs1", Transport: "local", Root: "sim/fs1"},
		{Name: "fs1", Transport: "local", Netns: "fs1"},
		{Name: "fs2", Transport: "ssh", Address: "fs2.example.net", User: "root", Port: 2222},
	}
	for _, c := range tests {
		t.Run(c.Name+"/"+c.Transport, func(t *testing.T) {
			v := c.Value()
			if !v.Type().Equals(Type) {
				t.Fatalf("type %s, want host.Type", v.Type().FriendlyName())
			}
			got, err := ConfigFromValue(v)
			if err != nil {
				t.Fatal(err)
			}
			if got != c {
				t.Errorf("round trip gave %+v, want %+v", got, c)
			}
		})
	}
	if v := (Config{Name: "x"}).Value(); v.GetAttr("transport").AsString() != "local" || !v.GetAttr("root").IsNull() {
		t.Errorf("defaults: %#v", v)
	}
}

func TestFromValue(t *testing.T) {
	root := filepath.Join(t.TempDir(), "r")
	obj := func(attrs map[string]cty.Value) cty.Value { return cty.ObjectVal(attrs) }
	tests := []struct {
		name    string
		v       cty.Value
		wantErr string
	}{
		{"local rooted", Config{Name: "fs1", Root: root}.Value(), ""},
		{"empty transport", obj(map[string]cty.Value{"name": cty.StringVal("a"), "transport": cty.StringVal(""), "root": cty.StringVal(root)}), ""},
		{"only a name", obj(map[string]cty.Value{"name": cty.StringVal("a")}), ""},
		// This package's tests are built without host/ssh: a host naming
		// another machine is refused, never opened here instead.
		{"ssh", Config{Name: "fs2", Transport: "ssh", Address: "x"}.Value(), `host "fs2": this program was built without the ssh transport`},
		{"address implies ssh", Config{Name: "fs1", Address: "10.0.0.5", Root: root}.Value(), "built without the ssh transport"},
		{"explicit local with an address", Config{Name: "fs1", Transport: "local", Address: "10.0.0.5", Root: root}.Value(), `Host "fs1" has transport "local"`},
		{"unknown transport", Config{Name: "fs2", Transport: "carrier-pigeon"}.Value(), `asks for transport "carrier-pigeon"`},
		{"null", cty.NullVal(Type), "no host given"},
		{"unknown", cty.UnknownVal(Type), "not known until apply"},
		{"unknown name", obj(map[string]cty.Value{"name": cty.UnknownVal(cty.String)}), "not known until apply"},
		{"unknown root", obj(map[string]cty.Value{"name": cty.StringVal("a"), "root": cty.UnknownVal(cty.String)}), "not known until apply"},
		{"unknown port", obj(map[string]cty.Value{"name": cty.StringVal("a"), "port": cty.UnknownVal(cty.Number)}), "not known until apply"},
		{"unknown marked root", obj(map[string]cty.Value{"name": cty.StringVal("a"), "root": cty.UnknownVal(cty.String).Mark("sensitive")}), "not known until apply"},
		{"string", cty.StringVal("fs1"), "must be an object"},
		{"no name", obj(map[string]cty.Value{"root": cty.StringVal(root)}), "no name"},
		{"bad port", obj(map[string]cty.Value{"name": cty.StringVal("a"), "port": cty.NumberFloatVal(1.5)}), "not a port number"},
		{"port as string", obj(map[string]cty.Value{"name": cty.StringVal("a"), "port": cty.StringVal("22")}), "port must be a number"},
		{"marked root", obj(map[string]cty.Value{"name": cty.StringVal("a"), "root": cty.StringVal(root).Mark("sensitive")}), ""},
		{"marked host", Config{Name: "fs1", Root: root}.Value().Mark("sensitive"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := FromValue(tt.v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if _, err := h.ReadDir(context.Background(), "/"); err != nil {
				t.Errorf("the host does not work: %v", err)
			}
		})
	}
}

func TestConfigCheck(t *testing.T) {
	const pin = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
	tests := []struct {
		name string
		c    Config
		want []string // "attr: part of the detail"
	}{
		{"local", Config{Name: "fs1", Root: "sim/fs1"}, nil},
		{"ssh in full", Config{Name: "fs1", Address: "fs1.example.net", Port: 2222, User: "dr", IdentityFile: "~/.ssh/id", HostKey: pin, KnownHosts: "kh", Root: "/srv/sim"}, nil},
		{"address with port", Config{Name: "fs1", Address: "10.1.2.3:2222"}, nil},
		{"IPv6", Config{Name: "fs1", Address: "[::1]:2222"}, nil},
		{"bare IPv6", Config{Name: "fs1", Address: "::1", Port: 22}, nil},
		{"local with remote settings", Config{Name: "fs1", Transport: "local", User: "dr", Port: 22, KnownHosts: "kh"},
			[]string{"port: has transport \"local\"", "user: has transport \"local\"", "known_hosts: has transport \"local\""}},
		{"ssh without address", Config{Name: "fs1", Transport: "ssh"}, []string{"transport: names no machine"}},
		{"unknown transport", Config{Name: "fs1", Transport: "nfs"}, []string{`transport: asks for transport "nfs"`}},
		{"port twice", Config{Name: "fs1", Address: "a:22", Port: 2222}, []string{"port: gives its port twice"}},
		{"bad port in address", Config{Name: "fs1", Address: "a:99999"}, []string{"address: which is not a port number"}},
		{"not an address", Config{Name: "fs1", Address: "user@fs1"}, []string{"address: is not a host name"}},
		{"port out of range", Config{Name: "fs1", Address: "a", Port: 70000}, []string{"port: is not a port number"}},
		{"relative root", Config{Name: "fs1", Address: "a", Root: "sim/fs1"}, []string{"root: must be an absolute path"}},
		{"fingerprint pin", Config{Name: "fs1", Address: "a", HostKey: "SHA256:abc"}, []string{"host_key: is not a public key"}},
		{"user with a space", Config{Name: "fs1", Address: "a", User: "d r"}, []string{"user: is not a user name"}},
		{"local in a namespace", Config{Name: "fs1", Root: "sim/fs1", Netns: "fs1"}, nil},
		{"ssh in a namespace", Config{Name: "fs1", Address: "a", Netns: "fs1"}, []string{"netns: for a local host"}},
		{"local without the agent", Config{Name: "fs1", NoAgent: true}, []string{"agent: has transport \"local\""}},
		{"ssh without the agent", Config{Name: "fs1", Address: "a", NoAgent: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.c.Check()
			if len(errs) != len(tt.want) {
				t.Fatalf("got %v, want %d errors", errs, len(tt.want))
			}
			for i, e := range errs {
				attr, part, _ := strings.Cut(tt.want[i], ": ")
				if e.Attr != attr || !strings.Contains(e.Detail, part) {
					t.Errorf("error %d: %s: %s, want %s", i, e.Attr, e.Detail, tt.want[i])
				}
			}
		})
	}
}

// TestConfigFromValueAllocs reads the host value every runbook step's
// call carries: reading it must not walk the whole object (cty's
// IsWhollyKnown sorted its attribute names and made a string value of
// each, every call), only the attributes, allocating nothing.
func TestConfigFromValueAllocs(t *testing.T) {
	v := Config{Name: "fs1", Root: "/srv/fs1"}.Value()
	if n := testing.AllocsPerRun(100, func() { ConfigFromValue(v) }); n != 0 {
		t.Errorf("ConfigFromValue allocates %v times, want 0", n)
	}
}
