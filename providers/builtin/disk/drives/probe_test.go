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

// Images on a host that does not tell inodes (SFTP) are the same only at
// the same path; with inodes, two names of one file are the same.
func TestSameImage(t *testing.T) {
	tests := []struct {
		name string
		a, b Drive
		want bool
	}{
		{"no inodes, other paths", Drive{Kind: Image, Path: "/images/system.img"}, Drive{Kind: Image, Path: "/images/backup.img"}, false},
		{"no inodes, same path", Drive{Kind: Image, Path: "/images/a.img"}, Drive{Kind: Image, Path: "/images//a.img"}, true},
		{"hard links", Drive{Kind: Image, Path: "/a", Dev: 1, Ino: 2, identified: true}, Drive{Kind: Image, Path: "/b", Dev: 1, Ino: 2, identified: true}, true},
		{"other files", Drive{Kind: Image, Path: "/a", Dev: 1, Ino: 2, identified: true}, Drive{Kind: Image, Path: "/b", Dev: 1, Ino: 3, identified: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Same(&tt.a, &tt.b); got != tt.want {
				t.Errorf("Same = %v, want %v", got, tt.want)
			}
		})
	}
}
