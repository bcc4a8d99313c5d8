package bcdtest

import (
	"encoding/binary"
	"time"

	"github.com/drover-dr/drover/providers/builtin/registry/regf"
	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
)

// Object IDs of the store Fixture builds.
const (
	BootManager = "{9dea862c-5cdd-4e70-acc1-f32b344d4795}"
	// FS2 is the standby's own Windows, the default, first in the display
	// order.
	FS2 = "{11111111-2222-3333-4444-555555555555}"
	// FS1 is the replicated source's Windows, second in the display order.
	FS1 = "{66666666-7777-8888-9999-aaaaaaaaaaaa}"
	// Recovery is a Windows Recovery Environment loader, outside the
	// display order.
	Recovery = "{0f6a5e8c-96f2-11e5-9c1b-d4bed9e0a2b1}"
	// MemoryTest is the Windows Memory Diagnostic, outside the display
	// order (bcdedit lists it under the tools display order).
	MemoryTest = "{b2721d73-1db4-4c62-bf78-c548a880142d}"
)

// Time is the timestamp of every key Fixture writes.
var Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Object types and element types, as the BCD documentation names them.
const (
	typeBootManager = 0x10100002
	typeOSLoader    = 0x10200003
	typeMemoryTest  = 0x10200005

	elemAppDevice    = "11000001"
	elemAppPath      = "12000002"
	elemDescription  = "12000004"
	elemDefault      = "23000003"
	elemDisplayOrder = "24000001"
	elemToolsOrder   = "24000010"
	elemTimeout      = "25000004"
)

// Fixture is a BCD store: the boot manager (default FS2, timeout 30,
// display order FS2, FS1; tools MemoryTest), the loaders FS2 and FS1, and
// Recovery and MemoryTest outside the display order.
func Fixture() []byte {
	h := regf.New("NewStoreRoot", Time)
	objects, _ := h.Root.AddSubkey("Objects", Time)
	object := func(id string, typ uint32, elements map[string]regf.Value) {
		o, _ := objects.AddSubkey(id, Time)
		d, _ := o.AddSubkey("Description", Time)
		d.SetValue("Type", regtext.TypeDWord, regtext.DWord(typ), Time)
		els, _ := o.AddSubkey("Elements", Time)
		for name, v := range elements {
			el, _ := els.AddSubkey(name, Time)
			el.SetValue("Element", v.Type, v.Data, Time)
		}
	}
	str := func(s string) regf.Value { return regf.Value{Type: regtext.TypeString, Data: regtext.String(s)} }
	list := func(ids ...string) regf.Value {
		return regf.Value{Type: regtext.TypeMultiString, Data: regtext.MultiString(ids)}
	}
	winload := str(`\Windows\system32\winload.exe`)
	object(BootManager, typeBootManager, map[string]regf.Value{
		elemDefault:      str(FS2),
		elemTimeout:      {Type: regtext.TypeBinary, Data: binary.LittleEndian.AppendUint64(nil, 30)},
		elemDisplayOrder: list(FS2, FS1),
		elemToolsOrder:   list(MemoryTest),
		elemDescription:  str("Windows Boot Manager"),
	})
	object(FS2, typeOSLoader, map[string]regf.Value{
		elemDescription: str("FS2 - Windows Server"), elemAppPath: winload,
		elemAppDevice: {Type: regtext.TypeBinary, Data: []byte{0, 0, 0, 0, 6, 0, 0, 0}},
	})
	object(FS1, typeOSLoader, map[string]regf.Value{
		elemDescription: str("FS1 - Windows Server"), elemAppPath: winload,
	})
	object(Recovery, typeOSLoader, map[string]regf.Value{
		elemDescription: str("Windows Recovery Environment"), elemAppPath: winload,
	})
	object(MemoryTest, typeMemoryTest, map[string]regf.Value{
		elemDescription: str("Windows Memory Diagnostic"), elemAppPath: str(`\boot\memtest.exe`),
	})
	return h.Encode()
}
