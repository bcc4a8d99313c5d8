package mirror

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Filter decides which entries of a set are mirrored, from include and
// exclude globs over paths relative to the set's folder, `/`-separated:
//
//   - `*` and `?` match within a name, `**` any number of folders,
//     `[a-z]` and `{a,b}` as usual;
//   - a pattern without `/` matches a name at any depth (`*.tmp`); one
//     with `/` matches from the set's folder (`logs/**/*.gz`; a leading
//     `/` changes nothing);
//   - a trailing `/` matches folders only (`cache/`).
//
// Excluded entries are skipped on both sides: never copied, never deleted
// from the target. An excluded folder is skipped whole. With includes, a
// file is mirrored only if it or a folder above it matches one; folders are
// mirrored when they match or hold something mirrored.
type Filter struct {
	include, exclude []pattern
}

type pattern struct {
	glob    string
	dirOnly bool
}

// NewFilter checks and compiles the patterns. Errors name the pattern.
func NewFilter(include, exclude []string) (*Filter, error) {
	f := &Filter{}
	var err error
	if f.include, err = compile("include", include); err != nil {
		return nil, err
	}
	if f.exclude, err = compile("exclude", exclude); err != nil {
		return nil, err
	}
	return f, nil
}

func compile(what string, globs []string) ([]pattern, error) {
	out := make([]pattern, 0, len(globs))
	for _, g := range globs {
		p := pattern{glob: g}
		if strings.HasSuffix(p.glob, "/") {
			p.dirOnly = true
			p.glob = strings.TrimRight(p.glob, "/")
		}
		p.glob = strings.TrimLeft(p.glob, "/")
		switch {
		case p.glob == "":
			return nil, fmt.Errorf("%s pattern %q matches nothing: give a name or a path such as \"*.tmp\" or \"cache/\"", what, g)
		case slices.Contains(strings.Split(p.glob, "/"), ".."):
			return nil, fmt.Errorf("%s pattern %q climbs out of the set with \"..\": patterns are relative to the set's folder", what, g)
		case !doublestar.ValidatePattern(p.glob):
			return nil, fmt.Errorf("%s pattern %q is not a valid glob (check its brackets and braces)", what, g)
		}
		if !strings.Contains(p.glob, "/") {
			p.glob = "**/" + p.glob
		}
		out = append(out, p)
	}
	return out, nil
}

func matchAny(ps []pattern, rel string, isDir bool) bool {
	for _, p := range ps {
		if (isDir || !p.dirOnly) && doublestar.MatchUnvalidated(p.glob, rel) {
			return true
		}
	}
	return false
}

// Excluded says whether the entry at rel is skipped, with what is below it.
func (f *Filter) Excluded(rel string, isDir bool) bool {
	return f != nil && matchAny(f.exclude, rel, isDir)
}

// Included says whether the entry at rel matches an include; true when
// there are no includes.
func (f *Filter) Included(rel string, isDir bool) bool {
	return f == nil || len(f.include) == 0 || matchAny(f.include, rel, isDir)
}

func (f *Filter) hasIncludes() bool { return f != nil && len(f.include) > 0 }

func (f *Filter) hasExcludes() bool { return f != nil && len(f.exclude) > 0 }
