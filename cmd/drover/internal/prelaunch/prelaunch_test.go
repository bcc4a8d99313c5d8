package prelaunch

import "testing"

func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"plan"}, "plan"},
		{[]string{"--chdir", "dir", "apply", "--auto-approve"}, "apply"},
		{[]string{"--chdir=plan", "--json", "validate"}, "validate"},
		{[]string{"--no-color", "state", "list"}, "state"},
		{[]string{"--help", "plan"}, ""},
		{[]string{"-h"}, ""},
		{[]string{"--chdir"}, ""},
	} {
		if got := command(tc.args); got != tc.want {
			t.Errorf("command(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}
