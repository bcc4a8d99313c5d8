package mirror

import (
	"encoding/binary"
	"fmt"
	"io/fs"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/wire"
)

// The requests and responses of the batch ops encode themselves (host's
// ops take an encoding.BinaryAppender as it is): they cross for every
// batch of files, where gob would compile its coders anew at both ends
// and reflect over every field of every entry. Integers are varints,
// strings and lists their length first; a field added to one of these
// types must be added here too (TestBatchWire fails until it is).

// AppendBinary encodes r after b.
func (r ReadRequest) AppendBinary(b []byte) ([]byte, error) {
	b = wire.AppendString(b, r.Dir)
	b = binary.AppendUvarint(b, uint64(len(r.Names)))
	for _, n := range r.Names {
		b = wire.AppendString(b, n)
	}
	return b, nil
}

func (r *ReadRequest) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	r.Dir = d.String()
	r.Names = make([]string, d.Count())
	for i := range r.Names {
		r.Names[i] = d.String()
	}
	return end(d)
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
	d := wire.NewDecoder(b)
	r.Files = make([]ReadFile, d.Count())
	for i := range r.Files {
		f := &r.Files[i]
		decodeEntry(d, &f.Stat)
		f.Result = decodeResult(d)
	}
	return end(d)
}

func (r WriteRequest) AppendBinary(b []byte) ([]byte, error) {
	b = wire.AppendString(b, r.Dir)
	b = append(b, byte(r.Preserve))
	b = wire.AppendBool(b, r.MakeDir)
	b = binary.AppendUvarint(b, uint64(len(r.Files)))
	for _, f := range r.Files {
		b = wire.AppendString(b, f.Name)
		b = appendEntry(b, &f.Src)
		b = wire.AppendBool(b, f.Dst != nil)
		if f.Dst != nil {
			b = appendEntry(b, f.Dst)
		}
		b = wire.AppendBool(b, f.Records)
	}
	return b, nil
}

func (r *WriteRequest) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	r.Dir = d.String()
	r.Preserve = Preserve(d.Byte())
	r.MakeDir = d.Bool()
	r.Files = make([]WriteFile, d.Count())
	// The targets' entries, for those that have one, share one array.
	var dsts []host.EntryStat
	for i := range r.Files {
		f := &r.Files[i]
		f.Name = d.String()
		decodeEntry(d, &f.Src)
		if d.Bool() {
			if dsts == nil {
				dsts = make([]host.EntryStat, len(r.Files)-i)
			}
			f.Dst, dsts = &dsts[0], dsts[1:]
			decodeEntry(d, f.Dst)
		}
		f.Records = d.Bool()
	}
	return end(d)
}

func (r WriteResponse) AppendBinary(b []byte) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(r.Results)))
	for _, fr := range r.Results {
		b = appendResult(b, fr)
	}
	return b, nil
}

func (r *WriteResponse) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	r.Results = make([]FileResult, d.Count())
	for i := range r.Results {
		r.Results[i] = decodeResult(d)
	}
	return end(d)
}

func appendEntry(b []byte, e *host.EntryStat) []byte {
	b = wire.AppendString(b, e.Name)
	b = wire.AppendString(b, e.Link)
	b = binary.AppendVarint(b, e.Size)
	b = binary.AppendVarint(b, e.MTime)
	b = binary.AppendUvarint(b, e.Dev)
	b = binary.AppendUvarint(b, e.Ino)
	b = binary.AppendVarint(b, e.Blocks)
	b = binary.AppendUvarint(b, uint64(e.UID))
	b = binary.AppendUvarint(b, uint64(e.GID))
	b = binary.AppendUvarint(b, uint64(e.Nlink))
	b = binary.AppendUvarint(b, uint64(e.Mode))
	return wire.AppendBool(b, e.HasStat)
}

func appendResult(b []byte, fr FileResult) []byte {
	return wire.AppendBool(wire.AppendString(b, fr.Err), fr.Retry)
}

func decodeEntry(d *wire.Decoder, e *host.EntryStat) {
	e.Name = d.String()
	e.Link = d.String()
	e.Size = d.Varint()
	e.MTime = d.Varint()
	e.Dev = d.Uvarint()
	e.Ino = d.Uvarint()
	e.Blocks = d.Varint()
	e.UID = d.Uint32()
	e.GID = d.Uint32()
	e.Nlink = d.Uint32()
	e.Mode = fs.FileMode(d.Uint32())
	e.HasStat = d.Bool()
}

func decodeResult(d *wire.Decoder) FileResult {
	return FileResult{Err: d.String(), Retry: d.Bool()}
}

// end is the error of decoding d's message, if any.
func end(d *wire.Decoder) error {
	if err := d.End(); err != nil {
		return fmt.Errorf("decoding a batch op's message: %w", err)
	}
	return nil
}
