// Package drill owns the building blocks of drills, the rehearsals of a
// runbook on isolated copies: cloning what a step would act on, the
// inventory of everything a drill creates with its teardown and the proof
// that nothing is left, and the fingerprints that prove production
// untouched.
//
// Clones: Plan says, doing nothing, how a source would be copied, and
// Inventory.Clone makes the copy by the cheapest method the host's file
// system offers (a reflink of a file, or of every file of a tree, on xfs or
// btrfs; a qcow2 overlay for a guest's disk; an overlayfs mount for a tree;
// a full copy where nothing cheaper applies) and says which, with a warning
// where it had to fall back.
// A source is only ever read.
//
// Namespace makes a drill's network namespace, where the network resources
// of its steps (addresses, with the interfaces they go on) live apart from
// production's; InterfaceAddrs reads the production subnets it mirrors.
// UTSNamespace pins a UTS namespace at a file, where a step's host name is
// taken without renaming production.
//
// Inventory: every object (clone, mount, loop device, namespace, UTS
// namespace, process, a guest's QEMU by its pidfile, and the kinds the engine creates: addresses, DNS records, guests) is
// journalled durably in the drill's folder before it is created. Teardown
// removes them in reverse order and may run again, in another process,
// after any interruption; Prove checks each object on its host, trusting
// no journal entry, and lists the leaks. Kinds whose creators live
// elsewhere plug in through the Kind interface, so that the inventory stays
// generic.
//
// Everything goes through host.Host. This package runs no runbook step and
// knows nothing of plans, configuration or reports: the runbook engine
// calls it and records what it answers. It never removes anything the
// inventory does not list, and never crosses from a drill's folder into a
// file system mounted below it.
package drill
