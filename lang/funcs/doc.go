// Package funcs holds the functions configuration expressions may call: the
// cty standard library under the names Terraform users know, plus encoding,
// hashing, network, file and sensitivity functions written here.
//
// Table builds the whole set once for a configuration folder; callers cache
// it. File functions read only inside that folder (through os.Root, so
// neither `..` nor a symbolic link leads out). Impure functions (timestamp,
// uuid) return unknown values unless the table is built for apply time;
// plantimestamp returns the plan's time given in Options. Every function
// in the table reports errors without the text of sensitive arguments
// (redactingFunc); Redact and SensitiveTexts do the same for the core's
// diagnostics about provider calls.
package funcs
