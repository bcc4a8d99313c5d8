package nfsconf

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []Block
		err      string
	}{
		{"blocks", "# c\nNFS_CORE_PARAM { Protocols = 3, 4; NFS_Port = 2049; }\n%include \"/x.conf\"\nEXPORT {\n Export_Id = 2; Path = \"/srv/a b\";\n FSAL { Name = VFS; }\n}\n",
			[]Block{{Name: "NFS_CORE_PARAM", Params: []Param{{"Protocols", "3, 4"}, {"NFS_Port", "2049"}}},
				{Name: "EXPORT", Params: []Param{{"Export_Id", "2"}, {"Path", "/srv/a b"}}, Blocks: []Block{{Name: "FSAL", Params: []Param{{"Name", "VFS"}}}}}}, ""},
		{"export", string(Export{ID: 7, Path: "/srv/data", Pseudo: "/data", ReadOnly: true}.Format()),
			[]Block{{Name: "EXPORT", Params: []Param{{"Export_Id", "7"}, {"Path", "/srv/data"}, {"Pseudo", "/data"}, {"Access_Type", "RO"},
				{"Squash", "No_Root_Squash"}, {"SecType", "sys"}, {"Protocols", "4"}}, Blocks: []Block{{Name: "FSAL", Params: []Param{{"Name", "VFS"}}}}}}, ""},
		{"unclosed block", "EXPORT {\n Path = /x;\n", nil, "line 2: block EXPORT without its closing }"},
		{"unclosed string", "EXPORT { Path = \"/x; }\n", nil, "line 1: a quoted string without its closing \""},
		{"no equals", "EXPORT {\n Path /x;\n}", nil, "line 2: Path without its = value"},
		{"no value", "EXPORT { Path = ; }", nil, "line 1: Path = without a value"},
		{"no brace", "EXPORT Path = 1;", nil, "line 1: block EXPORT without its {"},
		{"stray", "}", nil, `line 1: "}" where a block name was expected`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.in))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestExportRoundTrip: what Format writes, the export reader reads back.
func TestExportRoundTrip(t *testing.T) {
	for _, e := range []Export{
		{ID: 1024, Path: "/srv/data", Pseudo: "/data", ReadOnly: true},
		{ID: 65535, Path: "/srv/a b", Pseudo: "/A.b-c", ReadOnly: false},
	} {
		got, found, err := parseExport("x.conf", e.Format())
		if err != nil || !found {
			t.Fatalf("%v: %v, found %v", e, err, found)
		}
		if diff := cmp.Diff(e, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
}

// TestFreeID: a name's id is the same every time and whatever the case,
// within Drover's range, and moves on past ids in use.
func TestFreeID(t *testing.T) {
	id := StableID("data")
	if id != StableID("DATA") || id < idBase || id > 65535 {
		t.Fatalf("StableID(data) = %d, StableID(DATA) = %d", id, StableID("DATA"))
	}
	next := id + 1
	if id == 65535 {
		next = idBase
	}
	upTo := map[int]bool{}
	for i := id; i <= 65535; i++ {
		upTo[i] = true
	}
	for _, tc := range []struct {
		name string
		used map[int]bool
		want int
	}{
		{"free", nil, id},
		{"taken", map[int]bool{id: true}, next},
		{"wraps", upTo, idBase},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := freeID("data", tc.used)
			if err != nil || got != tc.want {
				t.Errorf("freeID = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

// FuzzParse: Parse never panics on any input.
func FuzzParse(f *testing.F) {
	f.Add([]byte("NFS_CORE_PARAM { Protocols = 3, 4; }\n%include \"/x\"\nEXPORT { Path = \"/a\"; FSAL { Name = VFS; } }\n"))
	f.Add([]byte("A { b = 'c' }"))
	f.Add([]byte("A { b = \"c"))
	f.Fuzz(func(t *testing.T, b []byte) {
		blocks, err := Parse(b)
		if err != nil {
			return
		}
		if _, err := Exports(blocks); err != nil {
			return
		}
	})
}
