package regstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
)

// Live is the hive name of the live registry.
const Live = "live"

// ErrNoKey is wrapped by the error of an Export of a key that does not
// exist.
var ErrNoKey = errors.New("no such key")

// Store is one registry.
type Store interface {
	// Export returns the key at key (a Location) with its values and, when
	// recursive, every key below it, parents first, values and subkeys in
	// name order, named as a .reg file names them.
	Export(ctx context.Context, key string, recursive bool) ([]regtext.Key, error)
	// Import applies .reg sections in order, creating missing parent
	// keys: all of them, or none when it fails. The undo sections put
	// back what it created, overwrote or deleted; they are passed to save
	// before the import takes effect (nil save: not saved), and a save
	// that fails fails the import.
	Import(ctx context.Context, keys []regtext.Key, save func([]regtext.Key) error) (undo []regtext.Key, err error)
	// String names the registry in messages.
	String() string
}

// Options say which registry of a host to open.
type Options struct {
	// Hive is the path of a hive file on the host, or Live.
	Hive string
	// Prefix is the registry path a hive file is loaded at, which .reg
	// files name its keys by (e.g. HKEY_LOCAL_MACHINE\SOFTWARE); empty
	// names them from the hive's root, \Key\Subkey, as hivexregedit does.
	Prefix string
}

// Open returns the registry opts name on h. local says that h is the
// machine Drover runs on (the live registry is only reachable there).
func Open(h host.Host, local bool, opts Options) (Store, error) {
	if opts.Hive == Live {
		if opts.Prefix != "" {
			return nil, fmt.Errorf("prefix is for hive files; the live registry names keys from their root key (HKEY_LOCAL_MACHINE\\...)")
		}
		if !local {
			return nil, fmt.Errorf("host %q: the live registry is reachable only on the Windows machine Drover runs on (a local host without a root); capture a hive file on other hosts", h.Name())
		}
		return openLive()
	}
	if !strings.HasPrefix(opts.Hive, "/") {
		return nil, fmt.Errorf("hive %q is neither %q nor an absolute path of a hive file on the host", opts.Hive, Live)
	}
	prefix, err := canonicalPrefix(opts.Prefix)
	if err != nil {
		return nil, err
	}
	return &hiveFile{host: h, path: opts.Hive, names: hiveNames{prefix: prefix}}, nil
}

// CheckKey checks the form of a key as Export takes it.
func (o Options) CheckKey(key string) error {
	if o.Hive == Live {
		_, err := liveNames{}.location(key)
		return err
	}
	_, err := hiveNames{}.location(key)
	return err
}

// names maps .reg key names and Export locations to key paths (the names
// of the keys from the registry's top).
type names interface {
	// location reads a key as Export takes it.
	location(key string) ([]string, error)
	// parse reads a key name of a .reg file.
	parse(name string) ([]string, error)
	// format is the inverse of parse.
	format(path []string) string
}

// rootKeys are the root keys of the live registry by every name a .reg
// file or a configuration may give them.
var rootKeys = map[string]string{
	"HKEY_LOCAL_MACHINE": "HKEY_LOCAL_MACHINE", "HKLM": "HKEY_LOCAL_MACHINE",
	"HKEY_CURRENT_USER": "HKEY_CURRENT_USER", "HKCU": "HKEY_CURRENT_USER",
	"HKEY_CLASSES_ROOT": "HKEY_CLASSES_ROOT", "HKCR": "HKEY_CLASSES_ROOT",
	"HKEY_USERS": "HKEY_USERS", "HKU": "HKEY_USERS",
	"HKEY_CURRENT_CONFIG": "HKEY_CURRENT_CONFIG", "HKCC": "HKEY_CURRENT_CONFIG",
}

func rootNames() string {
	var out []string
	for k, v := range rootKeys {
		if k == v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// canonicalPrefix checks a hive's prefix: a root key (any of its names),
// then key names.
func canonicalPrefix(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	parts, err := split(p)
	if err != nil {
		return nil, fmt.Errorf("prefix %q: %w", p, err)
	}
	root, ok := rootKeys[strings.ToUpper(parts[0])]
	if !ok {
		return nil, fmt.Errorf("prefix %q does not start with a root key (%s)", p, rootNames())
	}
	parts[0] = root
	return parts, nil
}

// split cuts a key name at its backslashes.
func split(s string) ([]string, error) {
	parts := strings.Split(s, `\`)
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("%q has an empty key name (two backslashes in a row, or one at an end)", s)
		}
	}
	return parts, nil
}

// hiveNames names the keys of a hive file: below prefix in .reg files,
// from the hive's root (\Key\Subkey) in locations.
type hiveNames struct{ prefix []string }

func (n hiveNames) location(key string) ([]string, error) {
	if key == `\` {
		return nil, nil
	}
	if !strings.HasPrefix(key, `\`) {
		return nil, fmt.Errorf("the key %q of a hive file must start with a backslash: it is a path from the hive's root, like \\Vendor\\Product (or \\ for the whole hive)", key)
	}
	return split(key[1:])
}

func (n hiveNames) parse(name string) ([]string, error) {
	if n.prefix == nil {
		return n.location(name)
	}
	parts, err := split(name)
	if err != nil {
		return nil, err
	}
	if root, ok := rootKeys[strings.ToUpper(parts[0])]; ok {
		parts[0] = root
	}
	if len(parts) < len(n.prefix) || !slices.EqualFunc(parts[:len(n.prefix)], n.prefix, strings.EqualFold) {
		return nil, fmt.Errorf("the key %s is not inside %s, where this hive is loaded", name, n.format(nil))
	}
	return parts[len(n.prefix):], nil
}

func (n hiveNames) format(path []string) string {
	if n.prefix == nil {
		return `\` + strings.Join(path, `\`)
	}
	return strings.Join(append(slices.Clone(n.prefix), path...), `\`)
}

// liveNames names the keys of the live registry from their root key.
type liveNames struct{}

func (liveNames) location(key string) ([]string, error) { return liveNames{}.parse(key) }

func (liveNames) parse(name string) ([]string, error) {
	parts, err := split(name)
	if err != nil {
		return nil, err
	}
	root, ok := rootKeys[strings.ToUpper(parts[0])]
	if !ok {
		return nil, fmt.Errorf("the key %s does not start with a root key (%s)", name, rootNames())
	}
	parts[0] = root
	return parts, nil
}

func (liveNames) format(path []string) string { return strings.Join(path, `\`) }
