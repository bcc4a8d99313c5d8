package bcd

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/drover-dr/drover/providers/builtin/registry/regf"
	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
)

// BootManager is the well-known object of the Windows Boot Manager.
const BootManager = "{9dea862c-5cdd-4e70-acc1-f32b344d4795}"

// Element types (the names of the element keys).
const (
	elemAppDevice    = "11000001"
	elemAppPath      = "12000002"
	elemDescription  = "12000004"
	elemOSDevice     = "21000001"
	elemDefault      = "23000003"
	elemDisplayOrder = "24000001"
	elemBootSequence = "24000002"
	elemTimeout      = "25000004"
)

// objectTypeOSLoader is the object type of a Windows loader entry.
const objectTypeOSLoader = 0x10200003

// An object type's top four bits are its class, 1 for applications (what
// the boot manager starts or is); its low 20 bits the application type, 1
// and 2 for the firmware and Windows boot managers.
const (
	classApplication   = 1
	appFirmwareBootMgr = 1
	appBootMgr         = 2
)

var guid = regexp.MustCompile(`^\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}$`)

// Store is a BCD store in memory.
type Store struct {
	name    string
	hive    *regf.Hive
	objects *regf.Key
	// read is the store as read, which Bytes gives back until an edit
	// changes something: a re-encoded hive has other bytes for the same
	// content.
	read    []byte
	changed bool
}

// Entry is a boot entry (an object the boot manager can start).
type Entry struct {
	ID          string
	Description string
	// Path is the loader's application path, e.g. \Windows\system32\winload.exe.
	Path string
	// Device is the application device element, hex.
	Device string
}

// Error is a store that cannot be read or edited.
type Error struct {
	File string
	Msg  string
}

func (e *Error) Error() string { return e.File + ": " + e.Msg }

// Parse reads a BCD store; name is used in errors.
func Parse(name string, b []byte) (*Store, error) {
	h, err := regf.Read(b)
	if err != nil {
		return nil, &Error{File: name, Msg: fmt.Sprintf("not a BCD store: %v", err)}
	}
	objects := h.Root.Subkey("Objects")
	if objects == nil {
		return nil, &Error{File: name, Msg: "a registry hive, but not a BCD store: it has no \\Objects key"}
	}
	s := &Store{name: name, hive: h, objects: objects, read: b}
	if s.object(BootManager) == nil {
		return nil, &Error{File: name, Msg: "the BCD store has no Windows Boot Manager object " + BootManager}
	}
	return s, nil
}

// Bytes is the store as a new hive file, or the bytes read when nothing
// changed.
func (s *Store) Bytes() []byte {
	if !s.changed {
		return s.read
	}
	return s.hive.Encode()
}

func (s *Store) object(id string) *regf.Key { return s.objects.Subkey(id) }

func element(obj *regf.Key, typ string) *regf.Value {
	el := obj.Lookup([]string{"Elements", typ})
	if el == nil {
		return nil
	}
	return el.Value("Element")
}

func elementString(obj *regf.Key, typ string) string {
	v := element(obj, typ)
	if v == nil {
		return ""
	}
	s, _ := regtext.AsString(v.Data)
	return s
}

func elementList(obj *regf.Key, typ string) []string {
	v := element(obj, typ)
	if v == nil {
		return nil
	}
	var out []string
	for _, part := range strings.Split(decodeUTF16(v.Data), "\x00") {
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

func decodeUTF16(b []byte) string {
	var sb strings.Builder
	for i := 0; i+1 < len(b); i += 2 {
		sb.WriteRune(rune(binary.LittleEndian.Uint16(b[i:])))
	}
	return sb.String()
}

func (s *Store) entry(id string) (Entry, bool) {
	obj := s.object(id)
	if obj == nil {
		return Entry{}, false
	}
	e := Entry{ID: obj.Name, Description: elementString(obj, elemDescription), Path: elementString(obj, elemAppPath)}
	dev := element(obj, elemAppDevice)
	if dev == nil {
		dev = element(obj, elemOSDevice)
	}
	if dev != nil {
		e.Device = hex.EncodeToString(dev.Data)
	}
	return e, true
}

// Entries lists the boot manager's display order, or, when it has none,
// every Windows loader object.
func (s *Store) Entries() []Entry {
	var out []Entry
	ids := elementList(s.object(BootManager), elemDisplayOrder)
	if len(ids) == 0 {
		for _, obj := range s.objects.Subkeys {
			if t, ok := objectType(obj); ok && t == objectTypeOSLoader {
				ids = append(ids, obj.Name)
			}
		}
	}
	for _, id := range ids {
		if e, ok := s.entry(id); ok {
			out = append(out, e)
		}
	}
	return out
}

func objectType(obj *regf.Key) (uint32, bool) {
	d := obj.Lookup([]string{"Description"})
	if d == nil {
		return 0, false
	}
	v := d.Value("Type")
	if v == nil || len(v.Data) != 4 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(v.Data), true
}

// loaders lists the display order, then every other object the boot
// manager can start (a recovery environment, the memory tester, loaders
// bcdedit removed from the menu), in store order.
func (s *Store) loaders() []Entry {
	out := s.Entries()
	listed := map[string]bool{}
	for _, e := range out {
		listed[strings.ToLower(e.ID)] = true
	}
	for _, obj := range s.objects.Subkeys {
		t, ok := objectType(obj)
		app := t & 0xFFFFF
		if !ok || t>>28 != classApplication || app == appFirmwareBootMgr || app == appBootMgr || listed[strings.ToLower(obj.Name)] {
			continue
		}
		if e, ok := s.entry(obj.Name); ok {
			out = append(out, e)
		}
	}
	return out
}

// Find returns the entry whose ID or description is ref (case-insensitive):
// an object the boot manager can start, in its display order or not; the
// first in the display order when several have the description.
func (s *Store) Find(ref string) (Entry, error) {
	if guid.MatchString(ref) {
		if e, ok := s.entry(ref); ok {
			return e, nil
		}
	}
	all := s.loaders()
	for _, e := range all {
		if strings.EqualFold(e.Description, ref) || strings.EqualFold(e.ID, ref) {
			return e, nil
		}
	}
	var have []string
	for _, e := range all {
		have = append(have, fmt.Sprintf("%s %q", e.ID, e.Description))
	}
	if len(have) == 0 {
		have = []string{"none"}
	}
	return Entry{}, &Error{File: s.name, Msg: fmt.Sprintf("no boot entry has the ID or description %q (entries: %s)", ref, strings.Join(have, ", "))}
}

// Default is the boot manager's default object.
func (s *Store) Default() string { return elementString(s.object(BootManager), elemDefault) }

// Timeout is the boot manager's timeout in seconds.
func (s *Store) Timeout() (int, bool) {
	v := element(s.object(BootManager), elemTimeout)
	if v == nil || len(v.Data) != 8 {
		return 0, false
	}
	return int(binary.LittleEndian.Uint64(v.Data)), true
}

// BootSequence is the one-time boot sequence.
func (s *Store) BootSequence() []string { return elementList(s.object(BootManager), elemBootSequence) }

// setElement sets a boot manager element; one that already holds data
// stays as it is, so that a switch to the current default changes nothing.
func (s *Store) setElement(typ string, vtype uint32, data []byte, now time.Time) error {
	if v := element(s.object(BootManager), typ); v != nil && v.Type == vtype && bytes.Equal(v.Data, data) {
		return nil
	}
	els, err := s.object(BootManager).AddSubkey("Elements", now)
	if err != nil {
		return err
	}
	el, err := els.AddSubkey(typ, now)
	if err != nil {
		return err
	}
	s.hive.Modified = now
	s.changed = true
	return el.SetValue("Element", vtype, data, now)
}

// SetDefault makes the entry id the boot manager's default.
func (s *Store) SetDefault(id string, now time.Time) error {
	e, err := s.Find(id)
	if err != nil {
		return err
	}
	if strings.EqualFold(s.Default(), e.ID) {
		return nil
	}
	return s.setElement(elemDefault, uint32(regtext.TypeString), regtext.String(e.ID), now)
}

// SetTimeout sets the boot manager's timeout.
func (s *Store) SetTimeout(seconds int, now time.Time) error {
	return s.setElement(elemTimeout, uint32(regtext.TypeBinary), binary.LittleEndian.AppendUint64(nil, uint64(seconds)), now)
}

// SetBootSequence makes the entry id boot once, next time.
func (s *Store) SetBootSequence(id string, now time.Time) error {
	e, err := s.Find(id)
	if err != nil {
		return err
	}
	return s.setElement(elemBootSequence, uint32(regtext.TypeMultiString), regtext.MultiString([]string{e.ID}), now)
}
