package mirror

import (
	"bytes"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
)

// TestChecksumOnMachines: a comparison by content hashes each side on its
// machine where it runs ops, in one op call for the files of a walk, and
// here where it does not; whichever way, it finds the same differences,
// in the first block of a file as in its last.
func TestChecksumOnMachines(t *testing.T) {
	for _, tc := range []struct {
		name   string
		agents [2]bool // the source's, the target's machine runs ops through an agent
		plain  [2]bool // the source's, the target's host runs no ops
	}{
		{name: "local"},
		{name: "through agents", agents: [2]bool{true, true}},
		{name: "target without ops", agents: [2]bool{true, false}, plain: [2]bool{false, true}},
		{name: "neither runs ops", plain: [2]bool{true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			big := bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16)
			write(t, e.src("same.txt"), "same", t0)
			write(t, e.src("first.txt"), "aaaa", t0)
			write(t, e.src("d/big.bin"), string(big), t0)
			write(t, e.src("d/empty"), "", t0)
			e.sync(e.mirror(Options{Preserve: PreserveAll}))
			// Same sizes and times, other data.
			write(t, e.dst("first.txt"), "bbbb", t0)
			big[len(big)-1] = 'X'
			write(t, e.dst("d/big.bin"), string(big), t0)

			var hosts [2]host.Host
			var agents [2]*agent
			for i, h := range []host.Host{e.fs1, e.fs2} {
				hosts[i] = h
				switch {
				case tc.agents[i]:
					a := newAgent(h)
					agents[i], hosts[i] = &a, a
				case tc.plain[i]:
					hosts[i] = agentless{h}
				}
			}
			m := e.mirror(Options{Preserve: PreserveAll, Checksum: true},
				Pair{Source: Endpoint{hosts[0], "/srv/set"}, Target: Endpoint{hosts[1], "/replica/set"}})
			if got, want := joinLines(e.sync(m)), "~ d/big.bin (content)\n~ first.txt (content)"; got != want {
				t.Errorf("plan:\n%s\nwant:\n%s", got, want)
			}
			same(t, e.src(), e.dst())
			for i, a := range agents {
				if a != nil && a.count(sumsOp) != 1 {
					t.Errorf("%d op calls hashed side %d's files, want 1", a.count(sumsOp), i)
				}
			}
		})
	}
}

// TestSumsOnMachineErrors: a file that cannot be read is named with why,
// the others are hashed.
func TestSumsOnMachineErrors(t *testing.T) {
	e := newEnv(t)
	write(t, e.src("a"), "a", t0)
	resp, err := host.Call[SumsRequest, SumsResponse](t.Context(), newAgent(e.fs1), sumsOp,
		SumsRequest{Folder: "/srv/set", Paths: []string{"/a", "/missing"}, BlockSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Files) != 2 || resp.Files[0].Err != "" || resp.Files[0].Size != 1 || len(resp.Files[0].Sums) != 1 {
		t.Errorf("the readable file: %+v", resp.Files)
	}
	if len(resp.Files) == 2 && !strings.Contains(resp.Files[1].Err, "missing") {
		t.Errorf("the missing file: %+v", resp.Files[1])
	}
}
