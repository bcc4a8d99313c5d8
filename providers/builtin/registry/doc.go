// Package registry is the built-in provider "registry": Windows registry
// settings kept where a standby can use them.
//
//   - registry_capture: a .reg file on a host holding a registry key (and,
//     by default, everything below it), taken from a hive file on that host
//     or from the live registry, optionally trimmed to the values that
//     differ from a baseline .reg of defaults. Plan compares the registry
//     with the last capture and lists what differs; apply writes the file
//     again, atomically.
//   - actions registry_import (apply a .reg file to a host's registry,
//     saving an undo .reg first: the REGINI step of a failover),
//     registry_export and registry_diff, which the `drover registry`
//     commands run, and registry_value, which answers a runbook's
//     registry_value check (a value that differs is a result, not an
//     error).
//
// The formats and the registries live in regtext (.reg files), regf (hive
// files) and regstore (one interface over hive files and the live
// registry); this package only turns configuration into calls on them.
package registry
