//go:build linux

package blocks

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
)

// TestShrinkingSourceWhileMapped: a source that is truncated while its
// mapping is hashed faults: the fault is the error errShrunk, not a
// crash.
func TestShrinkingSourceWhileMapped(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testSize)
	src, err := f.h.OpenFile(ctx, f.src, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m := mapSource(src, testSize)
	if m == nil {
		t.Fatal("a local regular file is not mapped")
	}
	c, err := newScanner(Options{Size: testSize})
	if err != nil {
		t.Fatal(err)
	}
	defer c.release()
	var once sync.Once
	_, err = c.hashRanges(ctx, input{r: src, m: m}, c.ranges, "sums", 0, func(ch *chunk) bool {
		once.Do(func() {
			if err := os.Truncate(f.src, 0); err != nil {
				t.Error(err)
			}
		})
		return false
	}, nil)
	if !errors.Is(err, errShrunk) {
		t.Fatalf("hashing a source truncated during the hash: err = %v, want %v", err, errShrunk)
	}
}
