// Package lang owns the configuration language: it reads a folder of
// *.dr.hcl and *.dr.json files into a Config whose expressions stay
// unevaluated (with their source ranges), finds the references of
// expressions and bodies, evaluates them through a Scope, gathers and
// checks input variables, and renders diagnostics for people and for
// machines.
//
// lang never plans, reads state or talks to providers: values of
// resources, locals and hosts reach a Scope through the Data interface,
// implemented by the planner. A Scope builds an evaluation context holding
// only the names an expression refers to, so evaluating one resource
// instance costs the same however large the configuration is; function
// tables are built once per configuration folder and shared.
//
// Runbooks are decoded and checked here (unique steps, known `after`
// entries, no cycles between whole steps, one action per step, every
// reference declared, every value known while loading suited to its
// argument); an `after` that picks instances by expression is kept for the
// planner, which evaluates it for each instance and sees the cycles
// through single instances. Running them is not lang's business.
package lang
