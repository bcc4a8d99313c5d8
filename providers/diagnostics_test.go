package providers

import (
	"errors"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestDetailEndsOnce: a detail that ends a sentence with an error whose
// text has its own period ends with one period, not two; an ellipsis stays.
func TestDetailEndsOnce(t *testing.T) {
	for _, tc := range []struct {
		name, format string
		arg          error
		want         string
	}{
		{"plain error", "%s.", errors.New("mount: invalid argument"), "mount: invalid argument."},
		{"error with a period", "%s.", errors.New("losetup: Invalid argument."), "losetup: Invalid argument."},
		{"ellipsis", "%s", errors.New("waiting..."), "waiting..."},
		{"period inside", "%s. Check it.", errors.New("Invalid argument."), "Invalid argument. Check it."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Errorf("Cannot mount", tc.format, tc.arg).Detail; got != tc.want {
				t.Errorf("Errorf detail = %q, want %q", got, tc.want)
			}
			if got := AttrErrorf(cty.GetAttrPath("x"), "Cannot mount", tc.format, tc.arg).Detail; got != tc.want {
				t.Errorf("AttrErrorf detail = %q, want %q", got, tc.want)
			}
		})
	}
}
