package funcs

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"net/url"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/ianaindex"
)

func stringToString(desc string, f func(string) (string, error)) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params:      []function.Parameter{{Name: "str", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
			return b.NotNull()
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			s, err := f(args[0].AsString())
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			return cty.StringVal(s), nil
		},
	})
}

var (
	// Base64EncodeFunc encodes a string's UTF-8 bytes in base64.
	Base64EncodeFunc = stringToString("Encodes the UTF-8 bytes of str in base64.", func(s string) (string, error) {
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	})

	// Base64DecodeFunc decodes base64 into a UTF-8 string.
	Base64DecodeFunc = stringToString("Decodes base64 whose bytes are UTF-8 text.", func(s string) (string, error) {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return "", fmt.Errorf("failed to decode base64 data: %s", err)
		}
		if !utf8.Valid(b) {
			return "", fmt.Errorf("the decoded bytes are not valid UTF-8; use filebase64 or keep the value in base64")
		}
		return string(b), nil
	})

	// Base64GzipFunc compresses a string with gzip and encodes it in base64.
	Base64GzipFunc = stringToString("Compresses str with gzip and encodes the result in base64.", func(s string) (string, error) {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		if _, err := w.Write([]byte(s)); err != nil {
			return "", err
		}
		if err := w.Close(); err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
	})

	// URLEncodeFunc escapes a string for use in a URL query.
	URLEncodeFunc = stringToString("Escapes str for use in a URL query.", func(s string) (string, error) {
		return url.QueryEscape(s), nil
	})
)

// textEncoding finds an encoding by its IANA name (or alias), for the
// text…base64 functions; arg is the argument that named it.
func textEncoding(name string, arg int) (encoding.Encoding, error) {
	enc, err := ianaindex.IANA.Encoding(name)
	if err != nil || enc == nil {
		return nil, function.NewArgErrorf(arg, "%q is not a character encoding this function knows; use an IANA name such as UTF-16LE, windows-1252 or ISO-8859-1", name)
	}
	return enc, nil
}

// TextEncodeBase64Func encodes a string in a named character encoding and
// returns the bytes in base64, for systems that want UTF-16 or a legacy
// code page (Windows registry and PowerShell scripts).
var TextEncodeBase64Func = function.New(&function.Spec{
	Description: "Encodes string in the character encoding encoding_name and returns the bytes in base64.",
	Params: []function.Parameter{
		{Name: "string", Type: cty.String},
		{Name: "encoding_name", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
		return b.NotNull()
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		enc, err := textEncoding(args[1].AsString(), 1)
		if err != nil {
			return cty.NilVal, err
		}
		b, err := enc.NewEncoder().Bytes([]byte(args[0].AsString()))
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "the string holds characters %s cannot encode", args[1].AsString())
		}
		return cty.StringVal(base64.StdEncoding.EncodeToString(b)), nil
	},
})

// TextDecodeBase64Func decodes base64 bytes of text in a named character
// encoding into a string.
var TextDecodeBase64Func = function.New(&function.Spec{
	Description: "Decodes source, base64 bytes of text in the character encoding encoding_name, into a string.",
	Params: []function.Parameter{
		{Name: "source", Type: cty.String},
		{Name: "encoding_name", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
		return b.NotNull()
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		enc, err := textEncoding(args[1].AsString(), 1)
		if err != nil {
			return cty.NilVal, err
		}
		raw, err := base64.StdEncoding.DecodeString(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "failed to decode base64 data: %s", err)
		}
		b, err := enc.NewDecoder().Bytes(raw)
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "the bytes are not valid %s text", args[1].AsString())
		}
		return cty.StringVal(string(b)), nil
	},
})
