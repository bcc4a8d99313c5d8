package efiboot

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"

	efi "github.com/canonical/go-efilib"
	"github.com/drover-dr/drover/host"
)

// DefaultDir is where a Linux host mounts efivarfs.
const DefaultDir = "/sys/firmware/efi/efivars"

// HostVars is a go-efilib variable backend over a host's efivarfs folder.
type HostVars struct {
	Host host.Host
	Dir  string
}

func (v HostVars) file(name string, guid efi.GUID) string {
	return path.Join(v.Dir, fmt.Sprintf("%s-%s", name, guid))
}

func (v HostVars) Get(ctx context.Context, name string, guid efi.GUID) (efi.VariableAttributes, []byte, error) {
	b, err := v.Host.ReadFile(ctx, v.file(name, guid))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil, efi.ErrVarNotExist
	}
	if err != nil {
		return 0, nil, err
	}
	if len(b) < 4 {
		return 0, nil, fmt.Errorf("%s is %d bytes, too short for an EFI variable (4 bytes of attributes first)", v.file(name, guid), len(b))
	}
	return efi.VariableAttributes(binary.LittleEndian.Uint32(b)), b[4:], nil
}

// Set writes attributes and data with one write, or removes the variable
// when data is empty.
func (v HostVars) Set(ctx context.Context, name string, guid efi.GUID, attrs efi.VariableAttributes, data []byte) error {
	p := v.file(name, guid)
	if len(data) == 0 {
		return v.Host.Remove(ctx, p)
	}
	// efivarfs holds no symlinks; one at a variable's name was planted
	// (in a folder standing in for efivarfs) and is never written through.
	f, err := v.Host.OpenFile(ctx, p, os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if errors.Is(err, syscall.ELOOP) {
		return fmt.Errorf("%s on host %q is a symlink, which an EFI variable never is: remove it", p, v.Host.Name())
	}
	if err != nil {
		return err
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(attrs))
	b = append(b, data...)
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	// efivarfs replaces the whole variable; a plain file (a test, a copy)
	// must lose the tail of a longer old value.
	if fi, err := f.Stat(); err == nil && fi.Size() > int64(len(b)) {
		if err := f.Truncate(int64(len(b))); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func (v HostVars) List(ctx context.Context) ([]efi.VariableDescriptor, error) {
	entries, err := v.Host.ReadDir(ctx, v.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist on host %q: the host has no EFI variables (booted in legacy BIOS mode, or efivarfs not mounted)", v.Dir, v.Host.Name())
	}
	if err != nil {
		return nil, err
	}
	const guidLen = len("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
	var out []efi.VariableDescriptor
	for _, e := range entries {
		n := e.Name()
		if len(n) < guidLen+2 || n[len(n)-guidLen-1] != '-' {
			continue
		}
		g, err := efi.DecodeGUIDString(n[len(n)-guidLen:])
		if err != nil {
			continue
		}
		out = append(out, efi.VariableDescriptor{Name: n[:len(n)-guidLen-1], GUID: g})
	}
	return out, nil
}

// Context carries vars for go-efilib's functions.
func Context(ctx context.Context, vars efi.VarsBackend2) context.Context {
	return context.WithValue(ctx, efi.VarsBackendKey{}, vars)
}

// Entry is a Boot#### load option.
type Entry struct {
	Number      uint16
	Description string
	Active      bool
}

// Name is the entry's variable name, e.g. Boot0003.
func (e Entry) Name() string {
	return efi.FormatLoadOptionVariableName(efi.LoadOptionClassBoot, e.Number)
}

// Entries lists the Boot#### options in number order.
func Entries(ctx context.Context) ([]Entry, error) {
	nums, err := efi.ListLoadOptionNumbers(ctx, efi.LoadOptionClassBoot)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, n := range nums {
		o, err := efi.ReadLoadOptionVariable(ctx, efi.LoadOptionClassBoot, n)
		if err != nil {
			return nil, fmt.Errorf("Boot%04X: %w", n, err)
		}
		out = append(out, Entry{Number: n, Description: o.Description, Active: o.IsActive()})
	}
	return out, nil
}

// Find returns the entry ref names: its variable name (Boot0003), its
// number in hex (0003) or its description (case-insensitive).
func Find(ctx context.Context, ref string) (Entry, error) {
	es, err := Entries(ctx)
	if err != nil {
		return Entry{}, err
	}
	for _, e := range es {
		if strings.EqualFold(e.Name(), ref) || strings.EqualFold(fmt.Sprintf("%04X", e.Number), ref) || strings.EqualFold(e.Description, ref) {
			return e, nil
		}
	}
	var have []string
	for _, e := range es {
		have = append(have, fmt.Sprintf("%s %q", e.Name(), e.Description))
	}
	if len(have) == 0 {
		have = []string{"none"}
	}
	return Entry{}, fmt.Errorf("no EFI boot entry is %q (entries: %s)", ref, strings.Join(have, ", "))
}

// Order is BootOrder; its first entry is the default.
func Order(ctx context.Context) ([]uint16, error) {
	o, err := efi.ReadLoadOrderVariable(ctx, efi.LoadOptionClassBoot)
	if errors.Is(err, efi.ErrVarNotExist) {
		return nil, nil
	}
	return o, err
}

// Next is BootNext; ok is false when it is not set.
func Next(ctx context.Context) (n uint16, ok bool, err error) {
	n, err = efi.ReadBootNextVariable(ctx)
	if errors.Is(err, efi.ErrVarNotExist) {
		return 0, false, nil
	}
	return n, err == nil, err
}

// SetDefault moves entry n to the front of BootOrder. Entries of the old
// order that no longer read (removed, or corrupt) are left out: firmware
// skips them anyway, and go-efilib refuses to write an order naming them,
// which would leave a host with one stale entry unable to switch.
func SetDefault(ctx context.Context, n uint16) error {
	if _, err := efi.ReadLoadOptionVariable(ctx, efi.LoadOptionClassBoot, n); err != nil {
		return fmt.Errorf("Boot%04X: %w", n, err)
	}
	order, err := Order(ctx)
	if err != nil {
		return err
	}
	order = slices.DeleteFunc(order, func(x uint16) bool {
		_, err := efi.ReadLoadOptionVariable(ctx, efi.LoadOptionClassBoot, x)
		return x == n || err != nil
	})
	return efi.WriteLoadOrderVariable(ctx, efi.LoadOptionClassBoot, append([]uint16{n}, order...))
}

// SetNext makes entry n boot once, next time.
func SetNext(ctx context.Context, n uint16) error {
	if _, err := efi.ReadLoadOptionVariable(ctx, efi.LoadOptionClassBoot, n); err != nil {
		return fmt.Errorf("Boot%04X: %w", n, err)
	}
	return efi.WriteBootNextVariable(ctx, n)
}
