package main

import "testing"

// TestApproves: an --approve entry answers its own step instance, and one
// naming a repeated step without a key answers each of its instances.
func TestApproves(t *testing.T) {
	for _, tc := range []struct {
		flag, step string
		want       bool
	}{
		{"confirm", "confirm", true},
		{"step.confirm", "confirm", true},
		{`step.confirm["x"]`, `confirm["x"]`, true},
		{`confirm[ "x" ]`, `confirm["x"]`, true},
		{`confirm["x"]`, `confirm["y"]`, false},
		{"confirm", `confirm["y"]`, true},
		{"confirm", "confirm[2]", true},
		{"confirm[2]", "confirm[3]", false},
		{"confirm", "confirmed", false},
		{"confirm[0]", "confirm", false},
	} {
		t.Run(tc.flag+" "+tc.step, func(t *testing.T) {
			a, err := canonicalStep(tc.flag)
			if err != nil {
				t.Fatal(err)
			}
			if got := approves(a, tc.step); got != tc.want {
				t.Fatalf("approves(%q, %q) = %v, want %v", a, tc.step, got, tc.want)
			}
		})
	}
}
