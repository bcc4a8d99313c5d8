package mirror

import (
	"encoding/binary"
	"fmt"
	"io/fs"

	"github.com/drover-dr/drover/host"
)

// The requests and responses of the batch ops encode themselves (host's
// ops take an encoding.BinaryAppender as it is): they cross for every
// batch of files, where gob would compile its coders anew at both ends
// and reflect over every field of every entry. Integers are varints,
// strings and lists their length first; a field added to one of these
// types must be added here too (TestBatchWire fails until it is).

// AppendBinary encodes r after b.
func (r ReadRequest) AppendBinary(b []byte) ([]byte, error) {
	b = appendString(b, r.Dir)
	b = binary.AppendUvarint(b, uint64(len(r.Names)))
	for _, n := range r.Names {
		b = appendString(b, n)
	}
	return b, nil
}

func (r *ReadRequest) UnmarshalBinary(b []byte) error {
	d := wireDecoder{b: b}
	r.Dir = d.string()
	r.Names = make([]string, d.count())
	for i := range r.Names {
		r.Names[i] = d.string()
	}
	return d.end()
}

func (r ReadResponse) AppendBinary(b []byte) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(r.Files)))
	for _, f := range r.Files {
		b = appendEntry(b, &f.Stat)
		b = appendResult(b, f.Result)
	}
	return b, nil
}

func (r *ReadResponse) UnmarshalBinary(b []byte) error {
	d := wireDecoder{b: b}
	r.Files = make([]ReadFile, d.count())
	for i := range r.Files {
		f := &r.Files[i]
		d.entry(&f.Stat)
		f.Result = d.result()
	}
	return d.end()
}

func (r WriteRequest) AppendBinary(b []byte) ([]byte, error) {
	b = appendString(b, r.Dir)
	b = append(b, byte(r.Preserve))
	b = binary.AppendUvarint(b, uint64(len(r.Files)))
	for _, f := range r.Files {
		b = appendString(b, f.Name)
		b = appendEntry(b, &f.Src)
		b = appendBool(b, f.Dst != nil)
		if f.Dst != nil {
			b = appendEntry(b, f.Dst)
		}
		b = appendBool(b, f.Records)
	}
	return b, nil
}

func (r *WriteRequest) UnmarshalBinary(b []byte) error {
	d := wireDecoder{b: b}
	r.Dir = d.string()
	r.Preserve = Preserve(d.byte())
	r.Files = make([]WriteFile, d.count())
	// The targets' entries, for those that have one, share one array.
	var dsts []host.EntryStat
	for i := range r.Files {
		f := &r.Files[i]
		f.Name = d.string()
		d.entry(&f.Src)
		if d.bool() {
			if dsts == nil {
				dsts = make([]host.EntryStat, len(r.Files)-i)
			}
			f.Dst, dsts = &dsts[0], dsts[1:]
			d.entry(f.Dst)
		}
		f.Records = d.bool()
	}
	return d.end()
}

func (r WriteResponse) AppendBinary(b []byte) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(r.Results)))
	for _, fr := range r.Results {
		b = appendResult(b, fr)
	}
	return b, nil
}

func (r *WriteResponse) UnmarshalBinary(b []byte) error {
	d := wireDecoder{b: b}
	r.Results = make([]FileResult, d.count())
	for i := range r.Results {
		r.Results[i] = d.result()
	}
	return d.end()
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendEntry(b []byte, e *host.EntryStat) []byte {
	b = appendString(b, e.Name)
	b = appendString(b, e.Link)
	b = binary.AppendVarint(b, e.Size)
	b = binary.AppendVarint(b, e.MTime)
	b = binary.AppendUvarint(b, e.Dev)
	b = binary.AppendUvarint(b, e.Ino)
	b = binary.AppendVarint(b, e.Blocks)
	b = binary.AppendUvarint(b, uint64(e.UID))
	b = binary.AppendUvarint(b, uint64(e.GID))
	b = binary.AppendUvarint(b, uint64(e.Nlink))
	b = binary.AppendUvarint(b, uint64(e.Mode))
	return appendBool(b, e.HasStat)
}

func appendResult(b []byte, fr FileResult) []byte {
	return appendBool(appendString(b, fr.Err), fr.Retry)
}

// wireDecoder reads what the Append functions wrote; its first error
// sticks, and every read after it gives zero values.
type wireDecoder struct {
	b   []byte
	err error
}

func (d *wireDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
	d.b = nil
}

func (d *wireDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("a number cut short or too large")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *wireDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("a number cut short or too large")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *wireDecoder) uint32() uint32 {
	v := d.uvarint()
	if v > 1<<32-1 {
		d.fail("%d does not fit 32 bits", v)
		return 0
	}
	return uint32(v)
}

func (d *wireDecoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("a byte cut short")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *wireDecoder) bool() bool {
	switch v := d.byte(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("%d is not a bool", v)
		return false
	}
}

func (d *wireDecoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("a string of %d bytes in %d", n, len(d.b))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// count reads the length of a list, each of whose items takes a byte at
// least: a corrupt one cannot make a huge list.
func (d *wireDecoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("a list of %d in %d bytes", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *wireDecoder) entry(e *host.EntryStat) {
	e.Name = d.string()
	e.Link = d.string()
	e.Size = d.varint()
	e.MTime = d.varint()
	e.Dev = d.uvarint()
	e.Ino = d.uvarint()
	e.Blocks = d.varint()
	e.UID = d.uint32()
	e.GID = d.uint32()
	e.Nlink = d.uint32()
	e.Mode = fs.FileMode(d.uint32())
	e.HasStat = d.bool()
}

func (d *wireDecoder) result() FileResult {
	return FileResult{Err: d.string(), Retry: d.bool()}
}

// end is the error of the decoding, if any, or of bytes left after it.
func (d *wireDecoder) end() error {
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes after the end", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("decoding a batch op's message: %w", d.err)
	}
	return nil
}
