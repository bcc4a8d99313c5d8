package drives

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMountinfo(t *testing.T) {
	in := `22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
44 26 259:0 / /tmp/my\040disk ro,relatime - ext4 /dev/loop0p1 ro
45 26 0:55 /sub /mnt/b rw shared:7 master:2 - btrfs /dev/loop3 rw,space_cache
bad line
46 26 x:y / /z rw - ext4 /dev/x rw
`
	want := []Mount{
		{Major: 254, Minor: 0, Point: "/", FSType: "ext4", Source: "/dev/vda"},
		{Major: 259, Minor: 0, Point: "/tmp/my disk", FSType: "ext4", Source: "/dev/loop0p1", ReadOnly: true},
		{Major: 0, Minor: 55, Point: "/mnt/b", FSType: "btrfs", Source: "/dev/loop3"},
	}
	if diff := cmp.Diff(want, ParseMountinfo(in)); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}
}

func FuzzParseMountinfo(f *testing.F) {
	f.Add("22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n")
	f.Add(`1 2 3:4 / /a\0 rw - x y z`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range ParseMountinfo(s) {
			if m.Point == "" && m.FSType == "" {
				t.Fatalf("an empty mount from %q", s)
			}
		}
	})
}

func TestMountOf(t *testing.T) {
	mounts := []Mount{{Point: "/"}, {Point: "/srv"}, {Point: "/srv/vm"}, {Point: "/srvx"}}
	for p, want := range map[string]string{"/srv/vm/a.img": "/srv/vm", "/srv/b.img": "/srv", "/srvx/c": "/srvx", "/etc/x": "/"} {
		if got := mountOf(mounts, p); got == nil || got.Point != want {
			t.Errorf("mountOf(%s) = %v, want %s", p, got, want)
		}
	}
}
