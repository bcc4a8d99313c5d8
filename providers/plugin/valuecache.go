package plugin

import (
	"sync"

	"github.com/zclconf/go-cty/cty"
)

// A runbook step's instances send the same small arguments call after
// call (one host, one argv), and their results repeat too (exit code 0):
// after the types, decoding those values again was the largest cost of a
// call of its own. Small values are remembered by their encoding, under
// their type's, since one encoding (msgpack nil) stands for a value of
// any type. A cty.Value is immutable, so a remembered one is shared.
var values valueCache

const (
	// maxCachedValue bounds the encodings remembered, in bytes: large
	// values (a file's content) rarely repeat and would hold memory.
	maxCachedValue = 1 << 10
	// maxCachedValues bounds the values remembered; past it the cache
	// starts over.
	maxCachedValues = 4096
)

type valueCache struct {
	mu     sync.Mutex
	byType map[string]map[string]cty.Value
	n      int
}

func (c *valueCache) get(typeJSON, encoded []byte) (cty.Value, bool) {
	if len(encoded) > maxCachedValue {
		return cty.NilVal, false
	}
	c.mu.Lock()
	v, ok := c.byType[string(typeJSON)][string(encoded)]
	c.mu.Unlock()
	return v, ok
}

func (c *valueCache) put(typeJSON, encoded []byte, v cty.Value) {
	if len(encoded) > maxCachedValue {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byType == nil || c.n >= maxCachedValues {
		c.byType, c.n = map[string]map[string]cty.Value{}, 0
	}
	m := c.byType[string(typeJSON)]
	if m == nil {
		m = map[string]cty.Value{}
		c.byType[string(typeJSON)] = m
	}
	m[string(encoded)] = v
	c.n++
}
