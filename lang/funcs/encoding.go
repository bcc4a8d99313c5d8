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
