// Package bcd reads and edits a Windows Boot Configuration Data store,
// which is a registry hive (\Boot\BCD, \EFI\Microsoft\Boot\BCD): objects
// under \Objects\{GUID}, each with elements under Elements\{type}. It knows
// the few elements a failover touches: the boot manager's default object,
// timeout, display order and one-time boot sequence, and the entries'
// descriptions, application paths and devices. An entry is any object the
// boot manager can start, in its display order or not.
//
// It builds on package regf, so an edited store is written as a whole new
// hive. It does not read or write files.
package bcd
