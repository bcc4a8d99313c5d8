// Package schema describes what a provider accepts and returns: the
// attributes and nested blocks of each resource type, data source and
// runbook action, with their types and flags.
//
// It is a leaf shared by the configuration decoder (which turns a schema into
// an hcldec spec), the planner (which merges config and prior state into a
// proposed value) and the plugin protocol (which carries schemas on the wire).
// It never talks to a provider.
package schema
