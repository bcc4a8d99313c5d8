package plugin

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"encoding/pem"
	"testing"

	pb "github.com/drover-dr/drover/providers/proto/v1"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"
)

// FuzzDecodeValue decodes arbitrary values as a plugin sends them (type
// JSON, through the type cache, and msgpack): the cache gives the type it
// parsed, and a value it accepts goes back on the wire and arrives the
// same once it has crossed once. (Not at once: go-cty writes a float64
// integer above 2^63 as its shortest decimal, which reads back as another
// integer; testdata/fuzz/FuzzDecodeValue keeps such a case.)
func FuzzDecodeValue(f *testing.F) {
	for _, v := range []cty.Value{
		cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal("fs1:/etc/motd"), "size": cty.NumberIntVal(6), "mode": cty.UnknownVal(cty.String)}),
		cty.ListVal([]cty.Value{cty.StringVal("a"), cty.NullVal(cty.String)}),
		cty.MapVal(map[string]cty.Value{"k": cty.SetVal([]cty.Value{cty.NumberFloatVal(1.5)})}),
		cty.TupleVal([]cty.Value{cty.True, cty.DynamicVal}),
		cty.NullVal(cty.DynamicPseudoType),
	} {
		dv, err := encodeValue(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(dv.TypeJson, dv.Msgpack)
	}
	f.Fuzz(func(t *testing.T, typeJSON, msgpack []byte) {
		v, err := decodeValue(&pb.DynamicValue{TypeJson: typeJSON, Msgpack: msgpack})
		if err != nil {
			return
		}
		if cached, err := types.unmarshal(typeJSON); err != nil || !cached.Equals(v.Type()) {
			t.Fatalf("the type cache gives %#v (%v) for a value of %#v", cached, err, v.Type())
		}
		cross := func(v cty.Value) cty.Value {
			dv, err := encodeValue(v)
			if err != nil {
				t.Fatalf("a value it decoded does not encode: %v", err)
			}
			back, err := decodeValue(dv)
			if err != nil {
				t.Fatalf("a value it encoded does not decode: %v", err)
			}
			return back
		}
		once := cross(v)
		if twice := cross(once); !twice.RawEquals(once) {
			t.Fatalf("%#v arrived as %#v", once, twice)
		}
	})
}

// FuzzDecodeSchema decodes arbitrary GetSchema responses, the first thing
// a plugin sends: a schema it accepts encodes and decodes to the same.
func FuzzDecodeSchema(f *testing.F) {
	block := &schema.Block{
		Attributes: map[string]*schema.Attribute{
			"path":    {Type: cty.String, Required: true, ForceNew: true},
			"content": {Type: cty.String, Optional: true, Sensitive: true},
			"tags":    {Type: cty.Map(cty.List(cty.Number)), Optional: true, Computed: true},
		},
		BlockTypes: map[string]*schema.NestedBlock{
			"rule": {Nesting: schema.NestingList, MinItems: 1, MaxItems: 3, Block: schema.Block{
				Attributes: map[string]*schema.Attribute{"glob": {Type: cty.String, Required: true}}}},
		},
	}
	p := &schema.Provider{
		Config:        &schema.Block{Attributes: map[string]*schema.Attribute{"greeting": {Type: cty.String, Optional: true}}},
		ResourceTypes: map[string]*schema.Resource{"file": {Version: 2, Description: "a file", Block: block}},
		DataSources:   map[string]*schema.Resource{"file": {Block: block}},
		Actions:       map[string]*schema.Action{"reboot": {Args: block, Result: cty.Object(map[string]cty.Type{"boot_id": cty.String})}},
	}
	resp, err := encodeSchema(p)
	if err != nil {
		f.Fatal(err)
	}
	seed, err := proto.Marshal(resp)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	sameType := cmp.Comparer(func(a, b cty.Type) bool { return a.Equals(b) })
	f.Fuzz(func(t *testing.T, b []byte) {
		var resp pb.GetSchema_Response
		if err := proto.Unmarshal(b, &resp); err != nil {
			return
		}
		s, err := decodeSchema(&resp)
		if err != nil {
			return
		}
		again, err := encodeSchema(s)
		if err != nil {
			t.Fatalf("a schema it decoded does not encode: %v", err)
		}
		back, err := decodeSchema(again)
		if err != nil {
			t.Fatalf("a schema it encoded does not decode: %v", err)
		}
		// A missing block and an empty one decode alike, with nil or
		// empty maps: the same schema.
		if diff := cmp.Diff(s, back, sameType, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("the schema changed on the wire:\n%s", diff)
		}
	})
}

// FuzzReadServerTLS reads arbitrary bytes as the certificates a plugin
// inherits from Drover: a configuration it accepts holds a key that
// belongs to its certificate, and trusts a client certificate.
func FuzzReadServerTLS(f *testing.F) {
	secret, _, err := certificates()
	if err != nil {
		f.Fatal(err)
	}
	other, _, err := certificates()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(secret)
	// The certificate of one pair with the key of another.
	blocks := func(b []byte) (out [][]byte) {
		for {
			var p *pem.Block
			if p, b = pem.Decode(b); p == nil {
				return out
			}
			out = append(out, pem.EncodeToMemory(p))
		}
	}
	mine, theirs := blocks(secret), blocks(other)
	f.Add(bytes.Join([][]byte{mine[0], theirs[1], mine[2]}, nil))
	f.Add(secret[:len(secret)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := readServerTLS(bytes.NewReader(b))
		if err != nil {
			return
		}
		cert := cfg.Certificates[0]
		signer, ok := cert.PrivateKey.(crypto.Signer)
		if !ok {
			t.Fatalf("the key %T cannot sign", cert.PrivateKey)
		}
		pub, ok := cert.Leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(signer.Public()) {
			t.Fatal("accepted a key that does not belong to the certificate")
		}
		if cfg.ClientCAs == nil || cfg.ClientAuth != tls.RequireAndVerifyClientCert {
			t.Fatal("accepted certificates without a client to trust")
		}
	})
}
