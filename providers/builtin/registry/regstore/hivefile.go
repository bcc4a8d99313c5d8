package regstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/registry/regf"
	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
)

// hiveFile is a registry hive file on a host.
type hiveFile struct {
	host  host.Host
	path  string
	names hiveNames
}

func (s *hiveFile) String() string {
	return fmt.Sprintf("hive file %s on host %q", s.path, s.host.Name())
}

func (s *hiveFile) load(ctx context.Context) (*regf.Hive, fs.FileMode, error) {
	fi, err := s.host.Lstat(ctx, s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("%s does not exist; create the hive first (drover registry import --create makes an empty one)", s)
	}
	if err != nil {
		return nil, 0, err
	}
	b, err := s.host.ReadFile(ctx, s.path)
	if err != nil {
		return nil, 0, err
	}
	h, err := regf.Read(b)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", s, err)
	}
	return h, fi.Mode().Perm(), nil
}

func (s *hiveFile) Export(ctx context.Context, key string, recursive bool) ([]regtext.Key, error) {
	path, err := s.names.location(key)
	if err != nil {
		return nil, err
	}
	h, _, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	t := &hiveTree{hive: h, now: time.Now()}
	if ok, _ := t.exists(path); !ok {
		return nil, fmt.Errorf("%s: %s: %w", s, key, ErrNoKey)
	}
	sections, err := export(t, path, recursive)
	if err != nil {
		return nil, err
	}
	return toKeys(s.names, sections), nil
}

// importLocks serialize the imports of this process into one hive file,
// each a read, an edit and a write of the whole file.
var importLocks sync.Map // host name and path → *sync.Mutex

// Import edits the hive in memory and writes it back as a new hive in one
// atomic replace, so a failure leaves the file exactly as it was.
func (s *hiveFile) Import(ctx context.Context, keys []regtext.Key, save func([]regtext.Key) error) ([]regtext.Key, error) {
	sections, lines, err := fromKeys(s.names, keys)
	if err != nil {
		return nil, err
	}
	mu, _ := importLocks.LoadOrStore(s.host.Name()+"\x00"+s.path, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	h, mode, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	undo, err := importSections(&hiveTree{hive: h, now: now}, sections, lines)
	if err != nil {
		return nil, err
	}
	back := toKeys(s.names, undo)
	if save != nil {
		if err := save(back); err != nil {
			return nil, err
		}
	}
	h.Modified = now
	if err := s.host.WriteFile(ctx, s.path, bytes.NewReader(h.Encode()), mode); err != nil {
		return nil, err
	}
	return back, nil
}

// CreateHive writes an empty hive file at path on h, unless a file is
// there already.
func CreateHive(ctx context.Context, h host.Host, path string) error {
	_, err := h.Lstat(ctx, path)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	now := time.Now()
	return h.WriteFile(ctx, path, bytes.NewReader(regf.New("ROOT", now).Encode()), 0o644)
}

// hiveTree is a hive in memory.
type hiveTree struct {
	hive *regf.Hive
	now  time.Time
}

func (t *hiveTree) key(path []string) (*regf.Key, error) {
	k := t.hive.Root.Lookup(path)
	if k == nil {
		return nil, ErrNoKey
	}
	return k, nil
}

func (t *hiveTree) exists(path []string) (bool, error) {
	return t.hive.Root.Lookup(path) != nil, nil
}

func (t *hiveTree) values(path []string) ([]regtext.Value, error) {
	k, err := t.key(path)
	if err != nil {
		return nil, err
	}
	out := make([]regtext.Value, len(k.Values))
	for i, v := range k.Values {
		out[i] = regtext.Value{Name: v.Name, Type: v.Type, Data: bytes.Clone(v.Data)}
	}
	return out, nil
}

func (t *hiveTree) subkeys(path []string) ([]string, error) {
	k, err := t.key(path)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(k.Subkeys))
	for i, s := range k.Subkeys {
		out[i] = s.Name
	}
	return out, nil
}

func (t *hiveTree) createKey(path []string) error {
	parent, err := t.key(path[:len(path)-1])
	if err != nil {
		return err
	}
	_, err = parent.AddSubkey(path[len(path)-1], t.now)
	return err
}

func (t *hiveTree) deleteKey(path []string) error {
	parent, err := t.key(path[:len(path)-1])
	if err != nil {
		return err
	}
	parent.DeleteSubkey(path[len(path)-1], t.now)
	return nil
}

func (t *hiveTree) setValue(path []string, v regtext.Value) error {
	k, err := t.key(path)
	if err != nil {
		return err
	}
	return k.SetValue(v.Name, v.Type, v.Data, t.now)
}

func (t *hiveTree) deleteValue(path []string, name string) error {
	k, err := t.key(path)
	if err != nil {
		return err
	}
	k.DeleteValue(name, t.now)
	return nil
}
