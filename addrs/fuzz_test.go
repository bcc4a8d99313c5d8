package addrs

import "testing"

// FuzzParseInstance feeds addresses as users type them (--target,
// `state show`, plan and state documents) to ParseInstance: an address it
// accepts must print as text that parses back to the same address.
func FuzzParseInstance(f *testing.F) {
	for _, s := range []string{"value.x", "value.x[3]", `file.cfg["a b"]`, "data.value.y", `drive_copy.backup["fs2"]`, "value.x[1.5]", "a.b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		inst, err := ParseInstance(s)
		if err != nil {
			return
		}
		again, err := ParseInstance(inst.String())
		if err != nil {
			t.Fatalf("%q parsed as %s, which does not parse: %v", s, inst, err)
		}
		if again != inst {
			t.Fatalf("%q parsed as %#v, printed as %s, parsed back as %#v", s, inst, inst, again)
		}
	})
}
