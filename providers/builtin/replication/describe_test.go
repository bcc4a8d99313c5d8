package replication

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/replication/mirror"
)

// agentless plays a transport that cannot run ops (SFTP alone).
type agentless struct{ host.Host }

// TestDescribeHostsWithoutOps: a plan says in one line which hosts are
// reached without the agent (their folders walked one by one), and
// nothing where every machine runs ops.
func TestDescribeHostsWithoutOps(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "fs1/srv/set"), 0o755); err != nil {
		t.Fatal(err)
	}
	fs1, fs2 := host.NewLocal("fs1", filepath.Join(dir, "fs1")), host.NewLocal("fs2", filepath.Join(dir, "fs2"))
	for _, tc := range []struct {
		name     string
		src, dst host.Host
		want     string
	}{
		{"every machine runs ops", fs1, fs2, ""},
		{"one host without", agentless{fs1}, fs2, "(fs1 is reached without the agent: its folders are walked one by one over SFTP)"},
		{"both without", agentless{fs1}, agentless{fs2}, "(fs1 and fs2 are reached without the agent: their folders are walked one by one over SFTP)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := mirror.New(t.Context(), []mirror.Pair{{Source: mirror.Endpoint{Host: tc.src, Path: "/srv/set"},
				Target: mirror.Endpoint{Host: tc.dst, Path: "/replica"}}}, mirror.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			pl, err := m.Plan(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			got := describe(pl, m, time.Time{}, time.Now())
			if n := strings.Count(got, "without the agent"); tc.want == "" && n != 0 || tc.want != "" && (n != 1 || !strings.Contains(got, tc.want)) {
				t.Errorf("description:\n%s\nwant the line %q", got, tc.want)
			}
		})
	}
}
