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

// encodings remembers the last small value encoded of each type with its
// encoding, for the other direction: a runbook step's instances are
// called with equal arguments, and their results are equal too, so
// comparing a value with the last one (RawEquals stops at the first
// difference) spares encoding it again: encoding was 8% of Drover's CPU
// in a runbook of 1,000 steps, and a step's arguments compare in 60% of
// the time, allocating nothing. The encoding is shared: nothing writes
// to a DynamicValue's bytes once made.
var encodings encodingCache

type encodingCache struct {
	mu     sync.Mutex
	byType map[string]encoding
}

type encoding struct {
	v  cty.Value
	mp []byte
}

func (c *encodingCache) get(typeJSON []byte, v cty.Value) ([]byte, bool) {
	c.mu.Lock()
	e, ok := c.byType[string(typeJSON)]
	c.mu.Unlock()
	if !ok || !e.v.RawEquals(v) {
		return nil, false
	}
	return e.mp, true
}

func (c *encodingCache) put(typeJSON []byte, v cty.Value, mp []byte) {
	if len(mp) > maxCachedValue {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byType == nil || len(c.byType) >= maxCachedValues {
		c.byType = map[string]encoding{}
	}
	c.byType[string(typeJSON)] = encoding{v, mp}
}
