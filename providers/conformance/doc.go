// Package conformance is the test suite every provider must pass, built-in
// or third-party, in process or through a plugin process: Run starts the
// provider from its Factory and checks, through the providers contract only,
//
//   - the schema is well formed: every attribute has a type and a sensible
//     mix of required/optional/computed, ForceNew only on attributes the
//     configuration can set, names are identifiers;
//   - for each Case: plan a create, apply it, read it back (equal to what
//     apply returned), plan again (no change); the same for an update; an
//     import by ID followed by a plan shows no change; delete works twice;
//   - invalid configuration (an unknown argument, a value of the wrong
//     type) gives error diagnostics that name the attribute, and null or
//     unknown values give no crash, and unknown ones no error.
//
// The suite only reads and writes what the cases' configurations name; it
// owns no fixtures of its own.
package conformance
