package disk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/disk/bcd"
	"github.com/drover-dr/drover/providers/builtin/disk/bootini"
	"github.com/drover-dr/drover/providers/builtin/disk/efiboot"
	"github.com/drover-dr/drover/providers/builtin/disk/grubenv"
)

// Loaders and where each keeps its boot menu by default.
var defaultFiles = map[string]string{
	"bootini": "/boot.ini",
	"grub":    "/boot/grub/grubenv",
	"bcd":     "/Boot/BCD",
	"efi":     efiboot.DefaultDir,
}

// bootStore is a host's boot menu, read whole; file-based menus are
// written back whole and atomically by save.
type bootStore struct {
	h      host.Host
	loader string
	file   string
	mode   fs.FileMode
	// read is the file as read: save writes only when an edit changed it.
	read []byte

	ini *bootini.File
	env *grubenv.Env
	bcd *bcd.Store
	efi context.Context

	unlock func()
}

func (s *bootStore) close() { s.unlock() }

// missingMenu is a menu file that is not there; it is fs.ErrNotExist to
// errors.Is.
type missingMenu string

func (e missingMenu) Error() string      { return string(e) }
func (missingMenu) Is(target error) bool { return target == fs.ErrNotExist }

// menuLocks serialize the read, edit and write of one menu by the calls
// of this process: several boot_entry resources share one BOOT.INI and
// are applied in parallel. (Two drover runs are kept apart by the state
// lock.)
var menuLocks sync.Map // host name and file → *sync.Mutex

// MenuFile is where loader keeps its menu on a host: file, or the
// loader's default where file is empty. A drill clones it before a boot
// switch.
func MenuFile(loader, file string) string {
	if file == "" {
		return defaultFiles[loader]
	}
	return file
}

// openBootStore reads a menu and holds its lock until close.
func openBootStore(ctx context.Context, h host.Host, loader, file string) (_ *bootStore, err error) {
	file = MenuFile(loader, file)
	mu, _ := menuLocks.LoadOrStore(h.Name()+"\x00"+file, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer func() {
		if err != nil {
			mu.(*sync.Mutex).Unlock()
		}
	}()
	s := &bootStore{h: h, loader: loader, file: file, unlock: mu.(*sync.Mutex).Unlock}
	name := fmt.Sprintf("%s on host %q", file, h.Name())
	if loader == "efi" {
		s.efi = efiboot.Context(ctx, efiboot.HostVars{Host: h, Dir: file})
		return s, nil
	}
	fi, err := h.Lstat(ctx, file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missingMenu(fmt.Sprintf("%s does not exist; set file to where the %s boot menu is", name, loader))
	}
	if err != nil {
		return nil, err
	}
	s.mode = fi.Mode().Perm()
	b, err := h.ReadFile(ctx, file)
	if err != nil {
		return nil, err
	}
	s.read = b
	switch loader {
	case "bootini":
		s.ini, err = bootini.Parse(name, b)
	case "grub":
		s.env, err = grubenv.Parse(name, b)
	case "bcd":
		s.bcd, err = bcd.Parse(name, b)
	default:
		err = fmt.Errorf("unknown loader %q", loader)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *bootStore) save(ctx context.Context) error {
	var b []byte
	switch {
	case s.ini != nil:
		b = s.ini.Bytes()
	case s.env != nil:
		b = s.env.Bytes()
	case s.bcd != nil:
		b = s.bcd.Bytes()
	default:
		return nil
	}
	if bytes.Equal(b, s.read) {
		return nil
	}
	return s.h.WriteFile(ctx, s.file, bytes.NewReader(b), s.mode)
}

// resolve finds the entry that path or label names and returns its ID: the
// ARC path in BOOT.INI, the menu entry in GRUB, the object GUID in BCD,
// BootXXXX in EFI.
func (s *bootStore) resolve(path, label string) (string, error) {
	switch s.loader {
	case "bootini":
		e, ok := s.ini.Entry(path)
		if !ok {
			return "", fmt.Errorf("%s on host %q has no entry for %s", s.file, s.h.Name(), path)
		}
		return e.Path, nil
	case "grub":
		return label, nil
	case "bcd":
		ref := path
		if ref == "" {
			ref = label
		}
		e, err := s.bcd.Find(ref)
		return e.ID, err
	default:
		ref := path
		if ref == "" {
			ref = label
		}
		e, err := efiboot.Find(s.efi, ref)
		return e.Name(), err
	}
}

// current is the ID of the default entry.
func (s *bootStore) current() (string, error) {
	switch s.loader {
	case "bootini":
		return s.ini.Default(), nil
	case "grub":
		v, _ := s.env.Get("saved_entry")
		return v, nil
	case "bcd":
		return s.bcd.Default(), nil
	default:
		order, err := efiboot.Order(s.efi)
		if err != nil || len(order) == 0 {
			return "", err
		}
		return efiboot.Entry{Number: order[0]}.Name(), nil
	}
}

func efiNumber(id string) uint16 {
	n, _ := strconv.ParseUint(id[len("Boot"):], 16, 16)
	return uint16(n)
}

func (s *bootStore) setDefault(id string) error {
	switch s.loader {
	case "bootini":
		return s.ini.SetDefault(id)
	case "grub":
		return s.env.Set("saved_entry", id)
	case "bcd":
		return s.bcd.SetDefault(id, time.Now())
	default:
		return efiboot.SetDefault(s.efi, efiNumber(id))
	}
}

// restoreDefault makes prev, the default an entry replaced, the default
// again; restored is false when the menu no longer has it (or an EFI
// variable cannot be read to tell). prev "" (the menu had no default)
// unsets GRUB's saved_entry; the other menus keep theirs.
func (s *bootStore) restoreDefault(prev, entry string) (restored bool, err error) {
	if strings.EqualFold(prev, entry) {
		return false, nil
	}
	if prev == "" {
		if s.env == nil {
			return false, nil
		}
		s.env.Unset("saved_entry")
		return true, nil
	}
	id, err := s.resolve(prev, prev)
	if err != nil {
		return false, nil
	}
	return true, s.setDefault(id)
}

func (s *bootStore) setNext(id string) error {
	switch s.loader {
	case "bootini":
		return fmt.Errorf("BOOT.INI has no one-time boot; switch the default instead (and back after)")
	case "grub":
		return s.env.Set("next_entry", id)
	case "bcd":
		return s.bcd.SetBootSequence(id, time.Now())
	default:
		return efiboot.SetNext(s.efi, efiNumber(id))
	}
}

func (s *bootStore) timeout() (int, bool) {
	switch s.loader {
	case "bootini":
		return s.ini.Timeout()
	case "bcd":
		return s.bcd.Timeout()
	}
	return 0, false
}

func (s *bootStore) setTimeout(n int) error {
	switch s.loader {
	case "bootini":
		s.ini.SetTimeout(n)
		return nil
	case "bcd":
		return s.bcd.SetTimeout(n, time.Now())
	}
	return fmt.Errorf("the %s loader keeps no timeout Drover can set", s.loader)
}
