// Package suggest finds the name a misspelt one most likely meant, for the
// "Did you mean" of diagnostics: the configuration language's, the
// planner's and the provider SDK's alike.
package suggest
