package discovery

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/drover-dr/drover/host"
	"github.com/hashicorp/go-version"
)

// LockFileName is the lock file kept beside the configuration.
const LockFileName = "drover.lock.json"

// Requirement is one entry of required_providers.
type Requirement struct {
	Name    string
	Source  string
	Version string // a constraint such as ">= 1.2, < 2.0"; empty means any
}

// Found is a provider binary chosen for a requirement.
type Found struct {
	Name    string `json:"-"`
	Source  string `json:"source"`
	Version string `json:"version"`
	Path    string `json:"path"`
	SHA256  string `json:"sha256"`
}

// Lock is the lock file's content.
type Lock struct {
	FormatVersion int              `json:"format_version"`
	Providers     map[string]Found `json:"providers"`
}

// Dirs lists the plugin folders searched, in order: the project's, then
// the user's.
func Dirs(workDir string) []string {
	dirs := []string{filepath.Join(workDir, ".drover", "plugins")}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".drover.d", "plugins"))
	}
	return dirs
}

// Find picks, for each requirement, the newest version in dirs that meets
// its constraint; the first folder wins on equal versions.
func Find(dirs []string, req Requirement) (Found, error) {
	var constraints version.Constraints
	if req.Version != "" {
		c, err := version.NewConstraint(req.Version)
		if err != nil {
			return Found{}, fmt.Errorf("provider %q: version %q is not a valid constraint: %w", req.Name, req.Version, err)
		}
		constraints = c
	}
	var best *version.Version
	var bestPath string
	var seen []string
	for _, dir := range dirs {
		base := filepath.Join(dir, filepath.FromSlash(req.Source))
		entries, err := os.ReadDir(base)
		if err != nil {
			continue
		}
		for _, e := range entries {
			v, err := version.NewVersion(e.Name())
			if err != nil {
				continue
			}
			bin := filepath.Join(base, e.Name(), "drover-provider-"+req.Name)
			if st, err := os.Stat(bin); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
				continue
			}
			seen = append(seen, v.String())
			if constraints != nil && !constraints.Check(v) {
				continue
			}
			if best == nil || v.GreaterThan(best) {
				best, bestPath = v, bin
			}
		}
	}
	if best == nil {
		if len(seen) > 0 {
			sort.Strings(seen)
			return Found{}, fmt.Errorf("provider %q (%s): no installed version matches %q (found %v)", req.Name, req.Source, req.Version, seen)
		}
		return Found{}, fmt.Errorf("provider %q (%s) is not installed: put its binary at %s",
			req.Name, req.Source, filepath.Join(dirs[0], filepath.FromSlash(req.Source), "VERSION", "drover-provider-"+req.Name))
	}
	sum, err := FileSHA256(bestPath)
	if err != nil {
		return Found{}, err
	}
	return Found{Name: req.Name, Source: req.Source, Version: best.String(), Path: bestPath, SHA256: sum}, nil
}

// FileSHA256 is the hex SHA-256 of a regular file's content. Anything
// else is refused: the path may come from a lock file, and a device such
// as /dev/zero would never end.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return "", err
	} else if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is a %s, not a regular file", path, host.ModeKind(fi.Mode()))
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ReadLock reads the lock file of workDir; a missing file gives an empty lock.
func ReadLock(workDir string) (*Lock, error) {
	b, err := os.ReadFile(filepath.Join(workDir, LockFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return &Lock{FormatVersion: 1, Providers: map[string]Found{}}, nil
	}
	if err != nil {
		return nil, err
	}
	var l Lock
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("%s is not a valid lock file: %w; delete it and run `drover init`", LockFileName, err)
	}
	if l.FormatVersion != 1 {
		return nil, fmt.Errorf("%s has format version %d, which this Drover does not read", LockFileName, l.FormatVersion)
	}
	if l.Providers == nil {
		l.Providers = map[string]Found{}
	}
	return &l, nil
}

// WriteLock replaces the lock file of workDir atomically.
func WriteLock(workDir string, l *Lock) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(workDir, LockFileName)
	tmp, err := os.CreateTemp(workDir, "."+LockFileName+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Verify checks a locked provider's binary still has its recorded checksum.
func Verify(name string, f Found) error {
	if f.Path == "" {
		return fmt.Errorf("provider %q is not installed for this configuration: run `drover init`", name)
	}
	sum, err := FileSHA256(f.Path)
	if err != nil {
		return fmt.Errorf("provider %q: %w; run `drover init`", name, err)
	}
	if sum != f.SHA256 {
		return fmt.Errorf("provider %q at %s has changed since `drover init` recorded it (checksum %s, locked %s); "+
			"if the change is intended, run `drover init --upgrade` to record the new binary", name, f.Path, short(sum), short(f.SHA256))
	}
	return nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
