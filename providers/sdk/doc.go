// Package sdk is what a provider author imports. An author describes a
// provider as a Provider value: its schema, and per resource type a few
// functions over plain cty values (Read, Create, Update, Delete and,
// optionally, Import and CustomizePlan). The package turns that into a
// providers.Provider (New) and serves it as a plugin (Serve).
//
// The SDK does the parts every provider would otherwise repeat:
//   - it checks configuration against the schema (required arguments,
//     types, unknown names, values for computed-only attributes), giving
//     diagnostics with attribute paths, then calls the author's Validate;
//   - it plans: the planned value is the configuration merged with the prior
//     state (computed attributes keep their prior value, or are unknown on a
//     create), which CustomizePlan may then adjust; attributes marked
//     ForceNew whose value changes are reported as forcing replacement, and
//     so is every change of a resource type without Update;
//   - it answers a plan of a delete (a null configuration) with what the
//     author's DescribeDelete says the delete does on the host, if set;
//   - it dispatches Apply to Create, Update or Delete and checks that the
//     result is wholly known and of the schema's type;
//   - it recovers a panic in an author's function into a diagnostic
//     (summary PanicSummary) naming the provider, call and type, ends the
//     contexts of calls in flight on Stop, and gives every Create, Update,
//     Delete and Invoke a Progress function that is safe to call at any time.
//
// It does not: keep anything between calls (providers are stateless between
// calls; what must persist goes in the resource's attributes), carry private
// data beyond passing it through unchanged, or recover panics in goroutines
// the author starts.
package sdk
