// Package render turns plans, states and values into the text people read:
// Terraform-style resource blocks with + ~ - -/+ <= markers and
// attribute-level diffs, unknown values as "(known after apply)" and
// sensitive ones as "(sensitive value)". Output is canonically ordered so
// two renderings of the same plan diff cleanly.
package render
