package state

import (
	"slices"
	"testing"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestProviders(t *testing.T) {
	inst := func(name, provider string) *Instance {
		return &Instance{Addr: addrs.Instance{Resource: addrs.Resource{Mode: addrs.Managed, Type: "value", Name: name}}, Provider: provider}
	}
	tests := []struct {
		name      string
		instances []*Instance
		want      []string
	}{
		{"empty", nil, nil},
		{"one provider, many instances", []*Instance{inst("a", "core"), inst("b", "core")}, []string{"core"}},
		{"several", []*Instance{inst("a", "core"), inst("b", "disk"), inst("c", "core"), inst("d", "hello")}, []string{"core", "disk", "hello"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			for _, i := range tt.instances {
				s.Set(i)
			}
			got := s.Providers()
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Providers() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestValidIdentifier checks the ASCII fast path against HCL's own check
// on every string of up to two ASCII characters and on a few longer ones.
func TestValidIdentifier(t *testing.T) {
	names := []string{"", "value", "r10000", "my-name", "_x", "x_1-2", "-x", "1x", "a b", "é", "nom_é", "ab\x00"}
	for a := 0; a < 128; a++ {
		names = append(names, string(rune(a)))
		for b := 0; b < 128; b++ {
			names = append(names, string([]byte{byte(a), byte(b)}))
		}
	}
	for _, n := range names {
		if got, want := validIdentifier(n), hclsyntax.ValidIdentifier(n); got != want {
			t.Errorf("validIdentifier(%q) = %v, hclsyntax says %v", n, got, want)
		}
	}
}
