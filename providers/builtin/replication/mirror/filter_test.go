package mirror

import (
	"strings"
	"testing"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name               string
		include, exclude   []string
		rel                string
		dir                bool
		excluded, included bool
	}{
		{"name at any depth", nil, []string{"*.tmp"}, "a/b/c.tmp", false, true, true},
		{"name at top", nil, []string{"*.tmp"}, "c.tmp", false, true, true},
		{"other name", nil, []string{"*.tmp"}, "a/c.txt", false, false, true},
		{"anchored path", nil, []string{"logs/*.gz"}, "logs/x.gz", false, true, true},
		{"anchored path not deeper", nil, []string{"logs/*.gz"}, "a/logs/x.gz", false, false, true},
		{"leading slash", nil, []string{"/logs/*.gz"}, "logs/x.gz", false, true, true},
		{"double star", nil, []string{"logs/**/*.gz"}, "logs/2024/01/x.gz", false, true, true},
		{"folder only, a folder", nil, []string{"cache/"}, "x/cache", true, true, true},
		{"folder only, a file", nil, []string{"cache/"}, "x/cache", false, false, true},
		{"braces", nil, []string{"*.{tmp,swp}"}, "a.swp", false, true, true},
		{"unicode", nil, []string{"régions/*"}, "régions/été.txt", false, true, true},
		{"include match", []string{"*.reg"}, nil, "x/a.reg", false, false, true},
		{"include miss", []string{"*.reg"}, nil, "x/a.txt", false, false, false},
		{"include folder", []string{"docs/"}, nil, "docs", true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFilter(tt.include, tt.exclude)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Excluded(tt.rel, tt.dir); got != tt.excluded {
				t.Errorf("Excluded(%q) = %v", tt.rel, got)
			}
			if got := f.Included(tt.rel, tt.dir); got != tt.included {
				t.Errorf("Included(%q) = %v", tt.rel, got)
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	for _, tt := range []struct{ pattern, want string }{
		{"../etc/*", "climbs out of the set"},
		{"a/../../b", "climbs out of the set"},
		{"/", "matches nothing"},
		{"[a-", "not a valid glob"},
		{"{a,b", "not a valid glob"},
	} {
		_, err := NewFilter(nil, []string{tt.pattern})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.pattern) {
			t.Errorf("pattern %q: %v, want an error naming it saying %q", tt.pattern, err, tt.want)
		}
	}
}

func FuzzFilter(f *testing.F) {
	for _, s := range []string{"*.tmp", "logs/**/*.gz", "cache/", "[a-", "{a,b}", "../x", "/"} {
		f.Add(s, "a/b/c.tmp")
	}
	f.Fuzz(func(t *testing.T, pattern, rel string) {
		flt, err := NewFilter([]string{pattern}, []string{pattern})
		if err != nil {
			return
		}
		flt.Excluded(rel, true)
		flt.Included(rel, false)
	})
}
