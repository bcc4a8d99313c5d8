package suggest

import "testing"

func TestNearest(t *testing.T) {
	candidates := []string{"resource", "data", "variable", "var", "local", "address", "type", "output"}
	tests := []struct{ given, want string }{
		{"resorce", "resource"},
		{"resouce", "resource"},
		{"varible", "variable"},
		{"vars", "var"},
		{"tpye", "type"},
		{"adress", "address"},
		{"Output", "output"},
		{"x", ""},
		{"completely", ""},
		{"dat", "data"},
		{"resource", ""},
	}
	for _, tt := range tests {
		t.Run(tt.given, func(t *testing.T) {
			if got := Nearest(tt.given, candidates); got != tt.want {
				t.Fatalf("Nearest(%q) = %q, want %q", tt.given, got, tt.want)
			}
		})
	}
}
