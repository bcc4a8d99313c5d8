package plugin

import (
	"sync"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Every value on the wire carries its type as JSON, and a batch carries
// the same few types over and over: encoding and parsing that JSON was
// the largest cost of a call. Types are remembered both ways.
var types typeCache

type typeCache struct {
	mu      sync.Mutex
	parsed  map[string]cty.Type
	encoded []encodedType
}

type encodedType struct {
	ty   cty.Type
	json []byte
}

// recentTypes bounds the encode cache; it is searched linearly.
const recentTypes = 32

func (c *typeCache) marshal(ty cty.Type) ([]byte, error) {
	c.mu.Lock()
	for _, e := range c.encoded {
		if e.ty.Equals(ty) {
			c.mu.Unlock()
			return e.json, nil
		}
	}
	c.mu.Unlock()
	b, err := ctyjson.MarshalType(ty)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.encoded) == recentTypes {
		c.encoded = c.encoded[1:]
	}
	c.encoded = append(c.encoded, encodedType{ty: ty, json: b})
	c.mu.Unlock()
	return b, nil
}

func (c *typeCache) unmarshal(b []byte) (cty.Type, error) {
	c.mu.Lock()
	ty, ok := c.parsed[string(b)]
	c.mu.Unlock()
	if ok {
		return ty, nil
	}
	ty, err := ctyjson.UnmarshalType(b)
	if err != nil {
		return cty.NilType, err
	}
	c.mu.Lock()
	if c.parsed == nil || len(c.parsed) > 4096 {
		c.parsed = map[string]cty.Type{}
	}
	c.parsed[string(b)] = ty
	c.mu.Unlock()
	return ty, nil
}
