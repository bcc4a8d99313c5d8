package plan

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDrillRoundTrip(t *testing.T) {
	last := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p := &Plan{Mode: RunbookMode, Lineage: "l", Serial: 1, Changes: []*Change{}, Runbook: &Runbook{
		Name: "failover", Kind: "failover", Steps: []*Step{}, LastDrill: last,
		Drill: &Drill{Folder: "/var/lib/drover/drills/0123456789ab", Reboots: []string{"boot"}, Isolated: []string{"fs2"},
			Namespaces: []*DrillNamespace{{Host: "fs2", Name: "drover-drill-0123456789ab-fs2", For: []string{"ip_address.fs1"},
				Interfaces: []DrillInterface{{Name: "eth0", Addresses: []string{"192.0.2.2/24"}}}}},
			Clones: []*DrillClone{
				{Host: "fs2", Source: "/boot.ini", Path: "/var/lib/drover/drills/0123456789ab/clones/boot.ini", Method: "copy", Why: "ext4", For: []string{"step.boot"}},
				{Host: "fs1", Source: "/srv/dpsr.img", Path: "/var/lib/drover/drills/0123456789ab/clones/srv/dpsr.img.qcow2", Method: "qcow2 overlay",
					Warning: "w", Disk: true, Manifest: "/srv/dpsr.img.blocks", For: []string{"drive_copy.dpsr"}},
			}},
	}}
	b, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	for _, tc := range []struct {
		name      string
		want, got any
	}{
		{"drill", p.Runbook.Drill, got.Runbook.Drill},
		{"last drill", p.Runbook.LastDrill, got.Runbook.LastDrill},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, tc.got); d != "" {
				t.Errorf("through the document (-want +got):\n%s", d)
			}
		})
	}
}
