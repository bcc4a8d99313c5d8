package spare

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzDecode reads arbitrary orders as a spare process does from its
// pipe: orders it accepts write out and read back the same.
func FuzzDecode(f *testing.F) {
	f.Add(string(encode([]string{"internal-plugin", "core"}, []string{"HOME=/root", "DROVER_LOG=debug", "EMPTY="}, "/work/cfg")))
	f.Add(string(encode(nil, nil, "")))
	f.Add("3:abc1:5")
	f.Add("-1:")
	f.Fuzz(func(t *testing.T, doc string) {
		args, env, dir, err := decode(doc)
		if err != nil {
			return
		}
		args2, env2, dir2, err := decode(string(encode(args, env, dir)))
		if err != nil {
			t.Fatalf("orders it read do not read once written: %v", err)
		}
		if dir2 != dir || !cmp.Equal(args2, args, cmpopts.EquateEmpty()) || !cmp.Equal(env2, env, cmpopts.EquateEmpty()) {
			t.Fatalf("orders %q %q %q read back as %q %q %q", args, env, dir, args2, env2, dir2)
		}
	})
}
