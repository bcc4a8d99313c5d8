package state

import (
	"slices"
	"strings"
	"testing"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
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

func valueRes(name string) addrs.Resource {
	return addrs.Resource{Mode: addrs.Managed, Type: "value", Name: name}
}

// movesFixture holds value.a[0], value.a[1] and value.b, which depends on
// value.a.
func movesFixture() *State {
	s := New()
	for _, a := range []addrs.Instance{valueRes("a").Instance(addrs.IntK(0)), valueRes("a").Instance(addrs.IntK(1)), valueRes("b").Instance(addrs.Key{})} {
		s.Set(&Instance{Addr: a, Attrs: cty.EmptyObjectVal})
	}
	s.Instances[valueRes("b").Instance(addrs.Key{})].Dependencies = []addrs.Resource{valueRes("a")}
	return s
}

func TestMoveResource(t *testing.T) {
	res, build := valueRes, movesFixture
	s := build()
	if !s.MoveResource(res("a"), res("c")) {
		t.Fatal("move refused")
	}
	var got []string
	for _, a := range s.SortedAddrs() {
		got = append(got, a.String())
	}
	if strings.Join(got, " ") != "value.b value.c[0] value.c[1]" {
		t.Fatalf("after the move: %v", got)
	}
	if deps := s.Instances[res("b").Instance(addrs.Key{})].Dependencies; len(deps) != 1 || deps[0] != res("c") {
		t.Fatalf("dependencies after the move: %v", deps)
	}
	for _, tc := range []struct{ from, to string }{{"zzz", "c"}, {"a", "b"}} {
		s := build()
		if s.MoveResource(res(tc.from), res(tc.to)) || len(s.Instances) != 3 || s.Instance(res("a").Instance(addrs.IntK(0))) == nil {
			t.Fatalf("move %s to %s changed the state", tc.from, tc.to)
		}
	}
}

func TestApplyMoves(t *testing.T) {
	res, build := valueRes, movesFixture
	mv := func(from, to addrs.Instance) addrs.Move { return addrs.Move{From: from, To: to} }
	for _, tc := range []struct {
		name     string
		moves    []addrs.Move
		applied  int
		addrs    string
		bDepends string
	}{
		{"whole resource", []addrs.Move{mv(res("a").Instance(addrs.IntK(0)), res("c").Instance(addrs.IntK(0))), mv(res("a").Instance(addrs.IntK(1)), res("c").Instance(addrs.IntK(1)))},
			2, "value.b value.c[0] value.c[1]", "value.c"},
		{"part of a resource", []addrs.Move{mv(res("a").Instance(addrs.IntK(1)), res("c").Instance(addrs.Key{}))},
			1, "value.a[0] value.b value.c", "value.a"},
		{"count to for_each", []addrs.Move{mv(res("a").Instance(addrs.IntK(0)), res("a").Instance(addrs.StrK("x")))},
			1, "value.a[1] value.a[\"x\"] value.b", "value.a"},
		{"a chain, in turn", []addrs.Move{mv(res("b").Instance(addrs.Key{}), res("c").Instance(addrs.Key{})), mv(res("c").Instance(addrs.Key{}), res("d").Instance(addrs.Key{}))},
			2, "value.a[0] value.a[1] value.d", "value.a"},
		{"missing from and taken to", []addrs.Move{mv(res("z").Instance(addrs.Key{}), res("c").Instance(addrs.Key{})), mv(res("a").Instance(addrs.IntK(0)), res("b").Instance(addrs.Key{}))},
			0, "value.a[0] value.a[1] value.b", "value.a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := build()
			applied := s.ApplyMoves(tc.moves)
			var got []string
			for _, a := range s.SortedAddrs() {
				got = append(got, a.String())
			}
			if len(applied) != tc.applied || strings.Join(got, " ") != tc.addrs {
				t.Fatalf("applied %v, state %v", applied, got)
			}
			for _, inst := range s.Instances {
				if inst.Addr.Name != "a" && len(inst.Dependencies) == 1 && inst.Dependencies[0].String() != tc.bDepends {
					t.Fatalf("%s depends on %v, want %s", inst.Addr, inst.Dependencies, tc.bDepends)
				}
			}
		})
	}
}
