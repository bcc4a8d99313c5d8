package mirror

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/ssh"
	"github.com/drover-dr/drover/internal/agenttest"
	"github.com/drover-dr/drover/internal/sshtest"
)

func TestMain(m *testing.M) { agenttest.Main(m) }

// agentPair is the default pair of e between two SSH hosts whose machines
// run the agent (this test binary, uploaded).
func agentPair(t *testing.T, e *env) Pair {
	return agentPairOn(t, e, sshtest.Start(t))
}

func agentPairOn(t *testing.T, e *env, s *sshtest.Server) Pair {
	dial := func(name, root string) host.Host {
		h, err := ssh.New(t.Context(), ssh.Options{Name: name, Address: s.Addr, User: s.User, IdentityFile: s.Identity,
			KnownHosts: s.KnownHosts, Root: root, AgentCache: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	return Pair{Source: Endpoint{dial("fs1", e.r1), "/srv/set"}, Target: Endpoint{dial("fs2", e.r2), "/replica/set"}}
}

func randomData(n int, seed uint64) string {
	data := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, seed))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	return string(data)
}

// TestRelayBetweenAgents: a large file copied between two machines that
// both run the agent crosses the controller raw, each of its bytes once
// (the relay), with its block sums recorded as they pass; one that
// compresses goes through the agent's calls, zstd-compressed.
func TestRelayBetweenAgents(t *testing.T) {
	e := newEnv(t)
	big := randomData(3<<20+123, 7)
	zeros := strings.Repeat("\x00\x01", 1<<20)
	write(t, e.src("big.img"), big, t0)
	write(t, e.src("zeros.img"), zeros, t0)
	write(t, e.src("small"), "small", t0)
	m := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true, BlockThreshold: 1 << 20}, agentPair(t, e))
	before := relayed.Load()
	e.sync(m)
	if got := relayed.Load() - before; got != int64(len(big)) {
		t.Errorf("%d bytes crossed raw, want the %d of the file that does not compress", got, len(big))
	}
	for name, want := range map[string]string{"big.img": big, "zeros.img": zeros, "small": "small"} {
		if got, _ := os.ReadFile(e.dst(name)); !bytes.Equal(got, []byte(want)) {
			t.Errorf("the replica of %s differs from its source", name)
		}
	}
	side := sidecars("/replica/set/big.img")
	manifest, err := blocks.Target{Host: e.fs2, Path: "/replica/set/big.img", Manifest: side[0], Journal: side[1]}.LoadManifest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var want []blocks.Sum
	for b := []byte(big); len(b) > 0; b = b[min(len(b), blocks.DefaultBlockSize):] {
		want = append(want, blocks.HashBlock(b[:min(len(b), blocks.DefaultBlockSize)]))
	}
	if !slices.Equal(manifest.Sums, want) {
		t.Errorf("the manifest's %d sums are not those of the file's %d blocks", len(manifest.Sums), len(want))
	}
	if pl, err := m.Plan(t.Context()); err != nil || len(pl.Changes) != 0 {
		t.Errorf("after the sync, the plan has %v (%v), want nothing", lines(pl), err)
	}
}

// TestRelayOneSide: a large file copied between a machine that runs the
// agent and the machine running the mirror streams too, either way: the
// bytes the agent sends or receives cross raw, where data of this
// machine's that compresses goes through the agent's calls.
func TestRelayOneSide(t *testing.T) {
	big := randomData(3<<20+5, 13)
	zeros := strings.Repeat("\x00\x01", 1<<20)
	for _, tc := range []struct {
		name string
		pair func(e *env, ssh Pair) Pair
	}{
		{"to the agent", func(e *env, ssh Pair) Pair { return Pair{Source: e.pair().Source, Target: ssh.Target} }},
		{"from the agent", func(e *env, ssh Pair) Pair { return Pair{Source: ssh.Source, Target: e.pair().Target} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			write(t, e.src("big.img"), big, t0)
			write(t, e.src("zeros.img"), zeros, t0)
			m := e.mirror(Options{Preserve: PreserveAll, BlockThreshold: 1 << 20}, tc.pair(e, agentPair(t, e)))
			before := relayed.Load()
			e.sync(m)
			if got := relayed.Load() - before; got != int64(len(big)) {
				t.Errorf("%d bytes crossed raw, want the %d of the file that does not compress", got, len(big))
			}
			for name, want := range map[string]string{"big.img": big, "zeros.img": zeros} {
				if got, _ := os.ReadFile(e.dst(name)); !bytes.Equal(got, []byte(want)) {
					t.Errorf("the replica of %s differs from its source", name)
				}
			}
			if pl, err := m.Plan(t.Context()); err != nil || len(pl.Changes) != 0 {
				t.Errorf("after the sync, the plan has %v (%v), want nothing", lines(pl), err)
			}
		})
	}
}

// TestRelayCancelled: a copy cancelled while its bytes cross raw ends on
// both machines and leaves no temp file; the next sync completes it.
func TestRelayCancelled(t *testing.T) {
	e := newEnv(t)
	big := randomData(4<<20, 9)
	write(t, e.src("big.img"), big, t0)
	pair := agentPair(t, e)
	// Slow enough to be cancelled midway.
	m := e.mirror(Options{Preserve: PreserveAll, Bandwidth: 1 << 20}, pair)
	pl, err := m.Plan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	before := relayed.Load()
	go func() {
		deadline := time.Now().Add(time.Minute)
		for relayed.Load() == before && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if _, err := m.Apply(ctx, pl, nil); err == nil {
		t.Fatal("the cancelled apply succeeded")
	}
	if relayed.Load() == before {
		t.Fatal("the copy did not cross raw")
	}
	left, _ := filepath.Glob(filepath.Join(e.dst(), "*"))
	hidden, _ := filepath.Glob(filepath.Join(e.dst(), ".*"))
	if left = append(left, hidden...); len(left) != 0 {
		t.Errorf("the cancelled copy left %v", left)
	}
	e.sync(e.mirror(Options{Preserve: PreserveAll}, pair))
	if got, _ := os.ReadFile(e.dst("big.img")); !bytes.Equal(got, []byte(big)) {
		t.Error("the next sync did not complete the replica")
	}
}

// TestRelayRefused: where sshd refuses the channels to the agent's socket
// (AllowStreamLocalForwarding no), a large file and the batches of small
// ones go through the agent's calls, as before there was a relay.
func TestRelayRefused(t *testing.T) {
	e := newEnv(t)
	s := sshtest.Start(t)
	s.Append(t, "AllowStreamLocalForwarding no\n")
	big := randomData(3<<20, 11)
	write(t, e.src("big.img"), big, t0)
	write(t, e.src("small"), "small", t0)
	before := relayed.Load()
	e.sync(e.mirror(Options{Preserve: PreserveAll}, agentPairOn(t, e, s)))
	if got := relayed.Load() - before; got != 0 {
		t.Errorf("%d bytes crossed raw through an sshd that refuses the channel", got)
	}
	if got, _ := os.ReadFile(e.dst("big.img")); !bytes.Equal(got, []byte(big)) {
		t.Error("the replica differs from its source")
	}
	if got, _ := os.ReadFile(e.dst("small")); string(got) != "small" {
		t.Errorf("the small file's replica holds %q", got)
	}
}
