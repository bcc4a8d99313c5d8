package plan

import "fmt"

// Assertion is a check as planned: a check block of a check step, or a
// step's precondition or postcondition. It is answered either by a
// provider action as the step runs (Invoke: a TCP connect, an HTTP
// status, a command, a file, a registry value) or from the refreshed
// state (Holds: a replication set's lag, a drive copy's age), which the
// run refreshes and plans again for the step.
type Assertion struct {
	// Kind is what is checked (tcp, http, command, file, registry_value,
	// replication_lag, drive_copy_age), Target what of it, Expect the
	// expectation as shown ("status 200", "below 5m0s").
	Kind   string
	Target string
	Expect string
	// Invoke answers the assertion: its result is an object of passed
	// (bool) and detail (what was found).
	Invoke *Invoke
	// Holds is the answer from the state when Invoke is nil, Detail the
	// figure it rests on.
	Holds  *bool
	Detail string
}

// String says what a is, for showing.
func (a *Assertion) String() string {
	s := a.Kind + " " + a.Target
	if a.Expect != "" {
		s += " " + a.Expect
	}
	return s
}

type docAssertion struct {
	Kind   string     `json:"kind"`
	Target string     `json:"target"`
	Expect string     `json:"expect,omitempty"`
	Invoke *docInvoke `json:"invoke,omitempty"`
	Holds  *bool      `json:"holds,omitempty"`
	Detail string     `json:"detail,omitempty"`
}

func encodeAssertions(in []*Assertion) ([]docAssertion, error) {
	var out []docAssertion
	for _, a := range in {
		inv, err := encodeInvoke(a.Invoke)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", a, err)
		}
		out = append(out, docAssertion{Kind: a.Kind, Target: a.Target, Expect: a.Expect, Invoke: inv, Holds: a.Holds, Detail: a.Detail})
	}
	return out, nil
}

func decodeAssertions(in []docAssertion) ([]*Assertion, error) {
	var out []*Assertion
	for _, d := range in {
		inv, err := decodeInvoke(d.Invoke)
		if err != nil {
			return nil, fmt.Errorf("check %s %s: %w", d.Kind, d.Target, err)
		}
		out = append(out, &Assertion{Kind: d.Kind, Target: d.Target, Expect: d.Expect, Invoke: inv, Holds: d.Holds, Detail: d.Detail})
	}
	return out, nil
}
