package prelaunch

import "testing"

func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		name, sub string
	}{
		{nil, "", ""},
		{[]string{"plan"}, "plan", ""},
		{[]string{"--chdir", "dir", "apply", "--auto-approve"}, "apply", ""},
		{[]string{"--chdir=plan", "--json", "validate"}, "validate", ""},
		{[]string{"--no-color", "state", "list"}, "state", "list"},
		{[]string{"--chdir", "dr", "runbook", "run", "failover", "--auto-approve"}, "runbook", "run"},
		{[]string{"runbook", "--help", "run"}, "", ""},
		{[]string{"--help", "plan"}, "", ""},
		{[]string{"-h"}, "", ""},
		{[]string{"--chdir"}, "", ""},
	} {
		if name, sub := command(tc.args); name != tc.name || sub != tc.sub {
			t.Errorf("command(%q) = %q, %q, want %q, %q", tc.args, name, sub, tc.name, tc.sub)
		}
	}
}
