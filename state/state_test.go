package state

import (
	"slices"
	"testing"

	"github.com/drover-dr/drover/addrs"
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
