package blocks

import (
	"fmt"
	"slices"
)

// Extent is the byte range [Off, Off+Len) of a source and its target.
type Extent struct {
	Off int64 `json:"off"`
	Len int64 `json:"len"`
}

func (e Extent) end() int64 { return e.Off + e.Len }

// Normalize sorts extents, merges those that touch or overlap and drops
// empty ones. It fails on a negative range or one beyond size.
func Normalize(extents []Extent, size int64) ([]Extent, error) {
	sorted := slices.Clone(extents)
	for _, e := range sorted {
		if e.Off < 0 || e.Len < 0 || e.end() > size || e.end() < e.Off {
			return nil, fmt.Errorf("range %d+%d lies outside the source's %d bytes", e.Off, e.Len, size)
		}
	}
	slices.SortFunc(sorted, func(a, b Extent) int {
		switch {
		case a.Off < b.Off:
			return -1
		case a.Off > b.Off:
			return 1
		}
		return 0
	})
	var out []Extent
	for _, e := range sorted {
		if e.Len == 0 {
			continue
		}
		if n := len(out); n > 0 && e.Off <= out[n-1].end() {
			out[n-1].Len = max(out[n-1].end(), e.end()) - out[n-1].Off
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// whole is the selection of every byte of a source of size bytes.
func whole(size int64) []Extent {
	if size == 0 {
		return nil
	}
	return []Extent{{0, size}}
}

// clip appends to out the parts of extents (normalized) inside [off,
// end).
func clip(out, extents []Extent, off, end int64) []Extent {
	i, _ := slices.BinarySearchFunc(extents, off, func(e Extent, off int64) int {
		if e.end() <= off {
			return -1
		}
		return 1
	})
	for ; i < len(extents) && extents[i].Off < end; i++ {
		s, t := max(extents[i].Off, off), min(extents[i].end(), end)
		if s < t {
			out = append(out, Extent{s, t - s})
		}
	}
	return out
}
