package addrs

import "testing"

func TestParseInstance(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "value.x", want: "value.x"},
		{in: "value.x[3]", want: "value.x[3]"},
		{in: `file.cfg["a b"]`, want: `file.cfg["a b"]`},
		{in: "data.value.y", want: "data.value.y"},
		{in: `file.cfg["\u0010"]`, want: `file.cfg["\u0010"]`},
		{in: `file.cfg["a$${b}%%{c}"]`, want: `file.cfg["a$${b}%%{c}"]`},
		{in: "value", wantErr: true},
		{in: "a.b.c", wantErr: true},
		{in: "value.x[1.5]", wantErr: true},
		{in: "value.x[0].y", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseInstance(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && got.String() != tt.want {
				t.Fatalf("got %q, want %q", got.String(), tt.want)
			}
		})
	}
}

func TestInstanceOrder(t *testing.T) {
	a := Resource{Mode: Managed, Type: "value", Name: "a"}
	ordered := []Instance{a.Instance(Key{}), a.Instance(IntK(2)), a.Instance(IntK(10)), a.Instance(StrK("x"))}
	for i := 1; i < len(ordered); i++ {
		if !ordered[i-1].Less(ordered[i]) || ordered[i].Less(ordered[i-1]) {
			t.Fatalf("%s should sort before %s", ordered[i-1], ordered[i])
		}
	}
}
