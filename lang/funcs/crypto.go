package funcs

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

func hashMD5(b []byte) string    { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
func hashSHA1(b []byte) string   { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }
func hashSHA256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func hashSHA512(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }
func hashBase64SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}
func hashBase64SHA512(b []byte) string {
	s := sha512.Sum512(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

func hashFunc(desc string, h func([]byte) string) function.Function {
	return stringToString(desc, func(s string) (string, error) { return h([]byte(s)), nil })
}

var (
	// MD5Func is the hex MD5 digest of a string's UTF-8 bytes.
	MD5Func = hashFunc("Returns the hex MD5 digest of str.", hashMD5)
	// SHA1Func is the hex SHA-1 digest of a string's UTF-8 bytes.
	SHA1Func = hashFunc("Returns the hex SHA-1 digest of str.", hashSHA1)
	// SHA256Func is the hex SHA-256 digest of a string's UTF-8 bytes.
	SHA256Func = hashFunc("Returns the hex SHA-256 digest of str.", hashSHA256)
	// SHA512Func is the hex SHA-512 digest of a string's UTF-8 bytes.
	SHA512Func = hashFunc("Returns the hex SHA-512 digest of str.", hashSHA512)
	// Base64SHA256Func is the base64 SHA-256 digest of a string.
	Base64SHA256Func = hashFunc("Returns the base64 SHA-256 digest of str.", hashBase64SHA256)
	// Base64SHA512Func is the base64 SHA-512 digest of a string.
	Base64SHA512Func = hashFunc("Returns the base64 SHA-512 digest of str.", hashBase64SHA512)
)

func formatUUID(b []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func uuidFunc(applyTime bool) function.Function {
	return function.New(&function.Spec{
		Description: "Returns a random UUID (version 4); unknown while planning.",
		Params:      []function.Parameter{},
		Type:        function.StaticReturnType(cty.String),
		Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
			if !applyTime {
				return cty.UnknownVal(cty.String).RefineNotNull(), nil
			}
			var b [16]byte
			if _, err := rand.Read(b[:]); err != nil {
				return cty.NilVal, err
			}
			b[6] = b[6]&0x0f | 0x40
			b[8] = b[8]&0x3f | 0x80
			return cty.StringVal(formatUUID(b[:])), nil
		},
	})
}

var uuidNamespaces = map[string]string{
	"dns":  "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
	"url":  "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
	"oid":  "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
	"x500": "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
}

func parseUUID(s string) ([]byte, error) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, fmt.Errorf("%q is not a UUID", s)
	}
	b, err := hex.DecodeString(s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:])
	if err != nil {
		return nil, fmt.Errorf("%q is not a UUID", s)
	}
	return b, nil
}

// UUIDv5Func derives a name-based UUID (version 5) from a namespace ("dns",
// "url", "oid", "x500" or a UUID) and a name.
var UUIDv5Func = function.New(&function.Spec{
	Description: "Returns the name-based (version 5) UUID of name within namespace.",
	Params: []function.Parameter{
		{Name: "namespace", Type: cty.String},
		{Name: "name", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		ns := args[0].AsString()
		if known, ok := uuidNamespaces[ns]; ok {
			ns = known
		}
		nsBytes, err := parseUUID(ns)
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "namespace must be dns, url, oid, x500 or a UUID: %s", err)
		}
		h := sha1.New()
		h.Write(nsBytes)
		h.Write([]byte(args[1].AsString()))
		b := h.Sum(nil)[:16]
		b[6] = b[6]&0x0f | 0x50
		b[8] = b[8]&0x3f | 0x80
		return cty.StringVal(formatUUID(b)), nil
	},
})
