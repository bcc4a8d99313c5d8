// Package bcdtest builds BCD stores for tests, laid out as bcdedit lays
// them out: a boot manager whose display order lists the Windows loaders
// of a dual-boot standby, and loaders outside it, as Windows setup leaves
// them (a recovery environment, the memory tester).
package bcdtest
