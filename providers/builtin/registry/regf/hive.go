package regf

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Hive is a hive file's content.
type Hive struct {
	// Minor is the format's minor version (3 to 6); the major is always 1.
	Minor uint32
	// Modified is when the hive was last written.
	Modified time.Time
	Root     *Key
	// base is the base block the hive was read with, kept so that the
	// fields this package does not interpret are written back unchanged.
	base []byte
}

// Key is a key node.
type Key struct {
	Name string
	// Class is the key's class name, as stored (UTF-16LE), or nil.
	Class    []byte
	Modified time.Time
	// Flags are the key node's flags, other than how its name is stored.
	Flags uint16
	// Security is the key's self-relative security descriptor.
	Security []byte
	Values   []*Value
	Subkeys  []*Key
	// access and spare are key node fields kept as read: the access bits
	// and the virtualization and user flags beside the largest subkey name
	// length.
	access, spare uint32
	parent        *Key
}

// Value is a value of a key.
type Value struct {
	// Name is "" for the key's default value.
	Name string
	Type uint32
	Data []byte
}

// Key node flags.
const (
	FlagVolatile  uint16 = 0x0001
	FlagHiveExit  uint16 = 0x0002
	FlagHiveEntry uint16 = 0x0004
	FlagNoDelete  uint16 = 0x0008
	FlagSymLink   uint16 = 0x0010
	flagCompName  uint16 = 0x0020
)

// New returns an empty hive: a root key named name that grants full
// access to SYSTEM and Administrators, as Windows' new hives do.
func New(name string, now time.Time) *Hive {
	return &Hive{
		Minor:    5,
		Modified: now,
		Root: &Key{
			Name:     name,
			Modified: now,
			Flags:    FlagHiveEntry | FlagNoDelete,
			Security: defaultSecurity(),
		},
	}
}

// defaultSecurity is a self-relative security descriptor: owner and group
// Administrators, and a DACL allowing KEY_ALL_ACCESS, inherited by subkeys,
// to SYSTEM and Administrators.
func defaultSecurity() []byte {
	system := []byte{1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0}
	admins := []byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0}
	ace := func(sid []byte) []byte {
		size := 8 + len(sid)
		b := []byte{0, 0x03, byte(size), byte(size >> 8), 0x3F, 0x00, 0x0F, 0x00}
		return append(b, sid...)
	}
	aces := append(ace(system), ace(admins)...)
	aclSize := 8 + len(aces)
	acl := append([]byte{2, 0, byte(aclSize), byte(aclSize >> 8), 2, 0, 0, 0}, aces...)
	const header = 20
	owner := header
	group := owner + len(admins)
	dacl := group + len(admins)
	sd := []byte{1, 0, 0x04, 0x80,
		byte(owner), 0, 0, 0,
		byte(group), 0, 0, 0,
		0, 0, 0, 0,
		byte(dacl), 0, 0, 0}
	sd = append(sd, admins...)
	sd = append(sd, admins...)
	return append(sd, acl...)
}

// Subkey returns the subkey called name (case-insensitively), or nil.
func (k *Key) Subkey(name string) *Key {
	for _, s := range k.Subkeys {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// Lookup follows path (key names, case-insensitive) from k, returning nil
// when a key on the way is missing.
func (k *Key) Lookup(path []string) *Key {
	for _, name := range path {
		if k = k.Subkey(name); k == nil {
			return nil
		}
	}
	return k
}

// AddSubkey returns the subkey called name, creating it when missing with
// k's security descriptor, as a new key inherits its parent's.
func (k *Key) AddSubkey(name string, now time.Time) (*Key, error) {
	if s := k.Subkey(name); s != nil {
		return s, nil
	}
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	s := &Key{Name: name, Modified: now, Security: slices.Clone(k.Security), parent: k}
	k.Subkeys = append(k.Subkeys, s)
	k.Modified = now
	return s, nil
}

// checkKeyName enforces Windows' rules for key names: 1 to 255
// characters, no backslash.
func checkKeyName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("a key name cannot be empty")
	case strings.ContainsRune(name, '\\'):
		return fmt.Errorf("the key name %q holds a backslash", name)
	case len(utf16Units(name)) > 255:
		return fmt.Errorf("the key name %q is longer than 255 characters", name)
	}
	return nil
}

// DeleteSubkey removes the subkey called name with everything below it,
// reporting whether it was there.
func (k *Key) DeleteSubkey(name string, now time.Time) bool {
	for i, s := range k.Subkeys {
		if strings.EqualFold(s.Name, name) {
			k.Subkeys = slices.Delete(k.Subkeys, i, i+1)
			k.Modified = now
			return true
		}
	}
	return false
}

// Value returns the value called name (case-insensitively), or nil.
func (k *Key) Value(name string) *Value {
	for _, v := range k.Values {
		if strings.EqualFold(v.Name, name) {
			return v
		}
	}
	return nil
}

// SetValue sets the value called name, adding it when missing.
func (k *Key) SetValue(name string, typ uint32, data []byte, now time.Time) error {
	if len(utf16Units(name)) > 16383 {
		return fmt.Errorf("the value name %q is longer than 16,383 characters", name)
	}
	k.Modified = now
	if v := k.Value(name); v != nil {
		v.Type, v.Data = typ, slices.Clone(data)
		return nil
	}
	k.Values = append(k.Values, &Value{Name: name, Type: typ, Data: slices.Clone(data)})
	return nil
}

// DeleteValue removes the value called name, reporting whether it was
// there.
func (k *Key) DeleteValue(name string, now time.Time) bool {
	for i, v := range k.Values {
		if strings.EqualFold(v.Name, name) {
			k.Values = slices.Delete(k.Values, i, i+1)
			k.Modified = now
			return true
		}
	}
	return false
}

// FormatError is a hive file that cannot be read.
type FormatError struct {
	// Offset is the file offset of the damaged structure.
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("not a valid registry hive: %s (at byte %d)", e.Msg, e.Offset)
}
