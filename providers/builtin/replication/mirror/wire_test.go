package mirror

import (
	"encoding"
	"io/fs"
	"reflect"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// wireEntry has every field of an entry set.
func wireEntry(name string) host.EntryStat {
	return host.EntryStat{Name: name, Link: "ünï\ncode", Size: 1 << 40, MTime: -1_700_000_000_123_456_789,
		Dev: 1<<64 - 1, Ino: 42, Blocks: 8, UID: 1<<32 - 1, GID: 1000, Nlink: 2,
		Mode: fs.ModeSymlink | fs.ModeSetuid | 0o755, HasStat: true}
}

// wireMessages are the batch ops' requests and responses and a scan's
// response, every field
// of each set (TestBatchWire checks it), for a field added to one to be
// missed by its encoding only if the test is not updated.
func wireMessages() []encoding.BinaryAppender {
	dst := wireEntry("b")
	return []encoding.BinaryAppender{
		ReadRequest{Dir: "/a/b", Names: []string{"x", "", "ü"}},
		ReadResponse{Files: []ReadFile{
			{Stat: wireEntry("x"), Result: FileResult{Err: "it changed", Retry: true}},
			{Stat: wireEntry(""), Result: FileResult{Err: "denied", Retry: true}},
		}},
		WriteRequest{Dir: "/a", Preserve: PreserveAll, MakeDir: true, Files: []WriteFile{
			{Name: "a", Src: wireEntry("a"), Dst: &dst, Records: true},
			{Name: "b", Src: wireEntry("b"), Dst: &dst, Records: true},
		}},
		WriteResponse{Results: []FileResult{{Err: "no space", Retry: true}, {Err: "e", Retry: true}}},
		ScanResponse{Root: wireEntry("set"), HasRoot: true, Folders: map[string][]host.EntryStat{"": {wireEntry("a")}, "a": {wireEntry("b"), wireEntry("c")}},
			Unreadable: map[string]string{"a/b": "denied"}},
	}
}

// TestBatchWire expects each batch op's request and response to decode
// as it was, every field of it.
func TestBatchWire(t *testing.T) {
	for _, m := range wireMessages() {
		t.Run(reflect.TypeOf(m).Name(), func(t *testing.T) {
			if path := zeroField(reflect.ValueOf(m), reflect.TypeOf(m).Name()); path != "" {
				t.Fatalf("%s is not set: the test does not check it crosses", path)
			}
			b, err := m.AppendBinary([]byte("before"))
			if err != nil {
				t.Fatal(err)
			}
			got := reflect.New(reflect.TypeOf(m))
			if err := got.Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary(b[len("before"):]); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(m, got.Elem().Interface(), cmpopts.IgnoreUnexported(ReadResponse{}, ReadFile{}, WriteFile{})); diff != "" {
				t.Errorf("decoded (-sent +got):\n%s", diff)
			}
			for cut := range len(b) - len("before") {
				if err := got.Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary(b[len("before") : len(b)-cut-1]); err == nil {
					t.Errorf("cut %d bytes short: no error", cut+1)
				}
			}
			if err := got.Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary(append(b[len("before"):], 0)); err == nil {
				t.Error("a byte after the end: no error")
			}
		})
	}
}

// zeroField is the path of an exported field of v left zero, or "": of a
// list, of its first item.
func zeroField(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return path
		}
		return zeroField(v.Elem(), path)
	case reflect.Slice:
		// The first item has every field set, the others may not.
		if v.Len() == 0 {
			return path
		}
		return zeroField(v.Index(0), path+"[0]")
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				if p := zeroField(v.Field(i), path+"."+f.Name); p != "" {
					return p
				}
			}
		}
		return ""
	}
	if v.IsZero() {
		return path
	}
	return ""
}

// FuzzBatchWire decodes what arrives from the other machine: never a
// panic, and what decodes encodes to what decodes the same.
func FuzzBatchWire(f *testing.F) {
	for _, m := range wireMessages() {
		b, _ := m.AppendBinary(nil)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range wireMessages() {
			got := reflect.New(reflect.TypeOf(m))
			if err := got.Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary(b); err != nil {
				continue
			}
			again, err := got.Elem().Interface().(encoding.BinaryAppender).AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			back := reflect.New(reflect.TypeOf(m))
			if err := back.Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary(again); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got.Interface(), back.Interface(), cmpopts.IgnoreUnexported(ReadResponse{}, ReadFile{}, WriteFile{})); diff != "" {
				t.Errorf("re-encoded (-first +again):\n%s", diff)
			}
		}
	})
}
