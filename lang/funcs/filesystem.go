package funcs

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// fileAccess resolves paths given to file functions inside one folder.
// Relative paths are relative to that folder; absolute paths must lie in
// it. Reads go through os.Root, which refuses `..` and symbolic links that
// lead out of the folder.
type fileAccess struct {
	dir    string
	absDir string
}

func newFileAccess(dir string) fileAccess {
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return fileAccess{dir: dir, absDir: abs}
}

func (f fileAccess) outside(p string) error {
	return fmt.Errorf("%q is outside the configuration folder %s; file functions read only files inside it", p, f.dir)
}

// rel turns p into a clean path relative to the folder, or an error when
// it points outside.
func (f fileAccess) rel(p string) (string, error) {
	if p == "" {
		return "", errors.New("the path must not be empty")
	}
	r := p
	if filepath.IsAbs(p) {
		var err error
		if r, err = filepath.Rel(f.absDir, p); err != nil {
			return "", f.outside(p)
		}
	}
	r = filepath.Clean(r)
	if r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return "", f.outside(p)
	}
	return r, nil
}

// explain rewrites an error of os.Root into one a user can act on.
func (f fileAccess) explain(p, rel string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no file exists at %q (inside %s)", p, f.dir)
	}
	if real, rerr := filepath.EvalSymlinks(filepath.Join(f.absDir, rel)); rerr == nil {
		if r, rerr := filepath.Rel(f.absDir, real); rerr != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return fmt.Errorf("%q is a symbolic link that leads outside the configuration folder %s; file functions read only files inside it", p, f.dir)
		}
	}
	return fmt.Errorf("cannot read %q: %w", p, err)
}

func (f fileAccess) read(p string) ([]byte, error) {
	rel, err := f.rel(p)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(f.dir)
	if err != nil {
		return nil, fmt.Errorf("cannot open the configuration folder: %w", err)
	}
	defer root.Close()
	b, err := root.ReadFile(rel)
	if err != nil {
		return nil, f.explain(p, rel, err)
	}
	return b, nil
}

func (f fileAccess) readString(p string) (string, error) {
	b, err := f.read(p)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("the contents of %q are not valid UTF-8; use filebase64 to read binary files", p)
	}
	return string(b), nil
}

func (f fileAccess) pathFunc(desc string, read func(string) (string, error)) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
			return b.NotNull()
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			s, err := read(args[0].AsString())
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			return cty.StringVal(s), nil
		},
	})
}

func (f fileAccess) fileFunc() function.Function {
	return f.pathFunc("Returns the contents of a UTF-8 text file.", f.readString)
}

func (f fileAccess) fileBase64Func() function.Function {
	return f.pathFunc("Returns the contents of a file in base64.", func(p string) (string, error) {
		b, err := f.read(p)
		return base64.StdEncoding.EncodeToString(b), err
	})
}

func (f fileAccess) fileHashFunc(h func([]byte) string) function.Function {
	return f.pathFunc("Returns a digest of the contents of a file.", func(p string) (string, error) {
		b, err := f.read(p)
		if err != nil {
			return "", err
		}
		return h(b), nil
	})
}

func (f fileAccess) fileExistsFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns whether a regular file exists at path.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			rel, err := f.rel(p)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			root, err := os.OpenRoot(f.dir)
			if err != nil {
				return cty.NilVal, fmt.Errorf("cannot open the configuration folder: %w", err)
			}
			defer root.Close()
			info, err := root.Stat(rel)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return cty.False, nil
			case err != nil:
				return cty.NilVal, function.NewArgError(0, f.explain(p, rel, err))
			case !info.Mode().IsRegular():
				return cty.NilVal, function.NewArgErrorf(0, "%q is not a regular file", p)
			}
			return cty.True, nil
		},
	})
}

// matchGlob matches a slash-separated path against a pattern whose
// segments follow path.Match, where a `**` segment matches any number of
// directories (including none).
func matchGlob(pattern, name []string) (bool, error) {
	for len(pattern) > 0 {
		if pattern[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if ok, err := matchGlob(pattern[1:], name[i:]); ok || err != nil {
					return ok, err
				}
			}
			return false, nil
		}
		if len(name) == 0 {
			return false, nil
		}
		ok, err := path.Match(pattern[0], name[0])
		if !ok || err != nil {
			return false, err
		}
		pattern, name = pattern[1:], name[1:]
	}
	return len(name) == 0, nil
}

func (f fileAccess) fileSetFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the paths, relative to path, of the regular files below path that match pattern (with ** for any depth).",
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "pattern", Type: cty.String},
		},
		Type: function.StaticReturnType(cty.Set(cty.String)),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			rel, err := f.rel(p)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			pattern := strings.Split(path.Clean(filepath.ToSlash(args[1].AsString())), "/")
			if _, err := matchGlob(pattern, pattern); err != nil {
				return cty.NilVal, function.NewArgErrorf(1, "invalid pattern: %s", err)
			}
			root, err := os.OpenRoot(f.dir)
			if err != nil {
				return cty.NilVal, fmt.Errorf("cannot open the configuration folder: %w", err)
			}
			defer root.Close()
			fsys := root.FS()
			start := filepath.ToSlash(rel)
			var found []string
			err = fs.WalkDir(fsys, start, func(name string, d fs.DirEntry, err error) error {
				if err != nil {
					if name == start {
						return err
					}
					return nil
				}
				if d.IsDir() {
					return nil
				}
				// Stat follows a symbolic link, and fails for one leading out.
				info, err := fs.Stat(fsys, name)
				if err != nil || !info.Mode().IsRegular() {
					return nil
				}
				sub := strings.TrimPrefix(name, start+"/")
				if start == "." {
					sub = name
				}
				if ok, _ := matchGlob(pattern, strings.Split(sub, "/")); ok {
					found = append(found, sub)
				}
				return nil
			})
			if err != nil {
				return cty.NilVal, function.NewArgError(0, f.explain(p, rel, err))
			}
			if len(found) == 0 {
				return cty.SetValEmpty(cty.String), nil
			}
			sort.Strings(found)
			vals := make([]cty.Value, len(found))
			for i, s := range found {
				vals[i] = cty.StringVal(s)
			}
			return cty.SetVal(vals), nil
		},
	})
}

// templateFileFunc renders a file as a template with the given variables
// and the functions of fns.
func (f fileAccess) templateFileFunc(fns map[string]function.Function) function.Function {
	return function.New(&function.Spec{
		Description: "Renders the template file at path with the given variables.",
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			src, err := f.readString(p)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			return renderTemplate(src, p, args[1], fns)
		},
	})
}

// PathExpandFunc replaces a leading ~ of a path with the home folder of
// the user running Drover.
var PathExpandFunc = stringToString("Replaces a leading ~ in path with the current user's home folder.", func(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		if strings.HasPrefix(p, "~") {
			return "", fmt.Errorf("cannot expand %q: only ~ (the current user's home folder) is expanded, not ~user", p)
		}
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot expand ~: %w", err)
	}
	return filepath.Join(home, p[1:]), nil
})

// AbsPathFunc makes a path absolute against the working directory.
var AbsPathFunc = stringToString("Returns path made absolute against the working directory.", func(p string) (string, error) {
	abs, err := filepath.Abs(p)
	return filepath.ToSlash(abs), err
})

// BasenameFunc is the last element of a path.
var BasenameFunc = stringToString("Returns the last element of path.", func(p string) (string, error) {
	return filepath.Base(p), nil
})

// DirnameFunc is a path without its last element.
var DirnameFunc = stringToString("Returns path without its last element.", func(p string) (string, error) {
	return filepath.Dir(p), nil
})
