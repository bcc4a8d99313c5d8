package shellquote

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

func TestJoin(t *testing.T) {
	tests := []struct {
		name  string
		words []string
		want  string
	}{
		{"plain words", []string{"ls", "-la", "/var/lib/data_1.2,x:y@z%"}, "ls -la /var/lib/data_1.2,x:y@z%"},
		{"empty word", []string{"echo", ""}, "echo ''"},
		{"space", []string{"a b"}, "'a b'"},
		{"single quote", []string{"it's"}, `'it'\''s'`},
		{"only quotes", []string{"''"}, `''\'''\'''`},
		{"expansions", []string{"$HOME", "`id`", "$(id)", "*", "?", "[a]"}, "'$HOME' '`id`' '$(id)' '*' '?' '[a]'"},
		{"operators", []string{";", "&&", "|", ">", "<", "&"}, "';' '&&' '|' '>' '<' '&'"},
		{"assignment-like", []string{"A=b"}, "'A=b'"},
		{"tilde and comment", []string{"~root", "#x"}, "'~root' '#x'"},
		{"newline and tab", []string{"a\nb\tc"}, "'a\nb\tc'"},
		{"backslash", []string{`a\b`}, `'a\b'`},
		{"no words", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Join(tt.words...)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Join(%q) = %q, want %q", tt.words, got, tt.want)
			}
		})
	}
}

func TestJoinRefusesNUL(t *testing.T) {
	_, err := Join("ok", "a\x00b")
	if err == nil || !strings.Contains(err.Error(), "word 1") {
		t.Fatalf("Join with a NUL byte: err = %v, want one naming word 1", err)
	}
}

// roundTrip has a real sh parse the joined words (eval, as a remote shell
// parses an exec request) and print each of them followed by a NUL.
func roundTrip(t *testing.T, sh string, words []string) []string {
	t.Helper()
	line, err := Join(words...)
	if err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	cmd := exec.Command(sh, "-c", `eval "set -- $1"; printf '%s\0' "$@"`, "sh", line)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sh -c on %q: %v: %s", line, err, stderr.String())
	}
	return strings.Split(strings.TrimSuffix(out.String(), "\x00"), "\x00")
}

func TestJoinRoundTrip(t *testing.T) {
	sh := testenv.Command(t, "sh", "dash")
	words := []string{"", " ", "'", `"`, `\`, "$", "${x}", "`", "!", "\n", "a'b\"c", "-n", "--", "A=b", "~", "*", "é", "\xff\xfe"}
	if diff := cmp.Diff(words, roundTrip(t, sh, words)); diff != "" {
		t.Errorf("words after a round trip through sh (-want +got):\n%s", diff)
	}
}

func FuzzJoin(f *testing.F) {
	sh := testenv.Command(f, "sh", "dash")
	for _, seed := range [][2]string{{"a", "b"}, {"", "'"}, {"$(id)", "`x`"}, {"a'\"b", "\n\t"}, {"%s", "\\"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if strings.IndexByte(a, 0) >= 0 || strings.IndexByte(b, 0) >= 0 {
			t.Skip("argv cannot carry NUL bytes")
		}
		words := []string{a, b}
		if diff := cmp.Diff(words, roundTrip(t, sh, words)); diff != "" {
			t.Errorf("words after a round trip through sh (-want +got):\n%s", diff)
		}
	})
}
