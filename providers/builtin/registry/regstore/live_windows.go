//go:build windows

package regstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"unsafe"

	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// live is the registry of this Windows machine.
type live struct{}

func openLive() (Store, error) { return live{}, nil }

func (live) String() string { return "the live registry" }

func (live) Export(ctx context.Context, key string, recursive bool) ([]regtext.Key, error) {
	path, err := liveNames{}.location(key)
	if err != nil {
		return nil, err
	}
	var t liveTree
	if ok, err := t.exists(path); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("the live registry: %s: %w", key, ErrNoKey)
	}
	sections, err := export(t, path, recursive)
	if err != nil {
		return nil, err
	}
	return toKeys(liveNames{}, sections), nil
}

// Import changes the registry key by key; when a change fails, the undo
// sections of the changes made so far are applied to put it back.
func (live) Import(ctx context.Context, keys []regtext.Key, save func([]regtext.Key) error) ([]regtext.Key, error) {
	sections, lines, err := fromKeys(liveNames{}, keys)
	if err != nil {
		return nil, err
	}
	var t liveTree
	undo, err := importSections(t, sections, lines)
	back := toKeys(liveNames{}, undo)
	if err == nil && save != nil {
		err = save(back)
	}
	if err != nil {
		if _, rerr := importSections(t, undo, make([]int, len(undo))); rerr != nil {
			return nil, fmt.Errorf("%w; rolling back the changes made before it also failed: %v", err, rerr)
		}
		return nil, fmt.Errorf("%w (the changes made before it were rolled back)", err)
	}
	return back, nil
}

var roots = map[string]registry.Key{
	"HKEY_LOCAL_MACHINE":  registry.LOCAL_MACHINE,
	"HKEY_CURRENT_USER":   registry.CURRENT_USER,
	"HKEY_CLASSES_ROOT":   registry.CLASSES_ROOT,
	"HKEY_USERS":          registry.USERS,
	"HKEY_CURRENT_CONFIG": registry.CURRENT_CONFIG,
}

// liveTree reaches keys by path, its first name a root key.
type liveTree struct{}

func (liveTree) open(path []string, access uint32) (registry.Key, error) {
	return registry.OpenKey(roots[path[0]], strings.Join(path[1:], `\`), access)
}

func (t liveTree) exists(path []string) (bool, error) {
	k, err := t.open(path, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	k.Close()
	return true, nil
}

func (t liveTree) values(path []string) ([]regtext.Value, error) {
	k, err := t.open(path, registry.QUERY_VALUE)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	names, err := k.ReadValueNames(-1)
	if err != nil {
		return nil, err
	}
	out := make([]regtext.Value, 0, len(names))
	for _, name := range names {
		n, typ, err := k.GetValue(name, nil)
		if err != nil {
			return nil, err
		}
		buf := make([]byte, n)
		if n > 0 {
			if n, typ, err = k.GetValue(name, buf); err != nil {
				return nil, err
			}
		}
		out = append(out, regtext.Value{Name: name, Type: typ, Data: buf[:n]})
	}
	return out, nil
}

func (t liveTree) subkeys(path []string) ([]string, error) {
	k, err := t.open(path, registry.ENUMERATE_SUB_KEYS)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	return k.ReadSubKeyNames(-1)
}

func (liveTree) createKey(path []string) error {
	k, _, err := registry.CreateKey(roots[path[0]], strings.Join(path[1:], `\`), registry.QUERY_VALUE)
	if err != nil {
		return err
	}
	return k.Close()
}

func (t liveTree) deleteKey(path []string) error {
	subs, err := t.subkeys(path)
	if err != nil {
		return err
	}
	for _, s := range subs {
		if err := t.deleteKey(append(path[:len(path):len(path)], s)); err != nil {
			return err
		}
	}
	return registry.DeleteKey(roots[path[0]], strings.Join(path[1:], `\`))
}

var procRegSetValueExW = windows.NewLazySystemDLL("advapi32.dll").NewProc("RegSetValueExW")

// setValue stores the value's bytes and type as they are, which the
// registry package's typed setters cannot do for every type.
func (t liveTree) setValue(path []string, v regtext.Value) error {
	k, err := t.open(path, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	name, err := syscall.UTF16PtrFromString(v.Name)
	if err != nil {
		return err
	}
	var data *byte
	if len(v.Data) > 0 {
		data = &v.Data[0]
	}
	r, _, _ := procRegSetValueExW.Call(uintptr(k), uintptr(unsafe.Pointer(name)), 0, uintptr(v.Type), uintptr(unsafe.Pointer(data)), uintptr(len(v.Data)))
	if r != 0 {
		return fmt.Errorf("setting value %q: %w", v.Name, syscall.Errno(r))
	}
	return nil
}

func (t liveTree) deleteValue(path []string, name string) error {
	k, err := t.open(path, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	return k.DeleteValue(name)
}
