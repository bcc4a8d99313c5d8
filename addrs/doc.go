// Package addrs owns the names of things in a configuration: resources,
// their instances, and how those names are written and parsed.
//
// It is a leaf: every other package may import it, it imports nothing of
// Drover's. Addresses are plain comparable values so they can be map keys.
package addrs
