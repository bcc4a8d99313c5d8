package planner

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner/dag"
	"github.com/drover-dr/drover/providers"
	"github.com/hashicorp/hcl/v2"
)

// node is one vertex of the configuration graph, named as users write
// references: var.x, local.y, host.z, value.a, data.value.b, output.o.
type node string

func varNode(name string) node           { return node("var." + name) }
func localNode(name string) node         { return node("local." + name) }
func hostNode(name string) node          { return node("host." + name) }
func outputNode(name string) node        { return node("output." + name) }
func resourceNode(r addrs.Resource) node { return node(r.String()) }

// configGraph is the dependency graph of a configuration, with the source
// range that introduced each edge for cycle diagnostics.
type configGraph struct {
	g *dag.Graph[node]
	// resourceDeps are each resource's dependencies on other resources,
	// seen through locals, hosts and variables.
	resourceDeps map[addrs.Resource][]addrs.Resource
}

// buildGraph connects every configuration object to what its expressions
// reference. specs gives the decoder spec of each resource, so that only
// attributes the provider knows are looked at.
func buildGraph(cfg *lang.Config, specs map[addrs.Resource]resourceSchema) (*configGraph, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	g := dag.New[node]()
	for name := range cfg.Variables {
		g.Add(varNode(name))
	}
	connect := func(from node, refs []lang.Ref) {
		for _, ref := range refs {
			to, ok := refNode(cfg, ref)
			if !ok {
				continue
			}
			if !g.Has(to) {
				diags = append(diags, cfg.UndeclaredRef(ref))
				continue
			}
			g.Connect(from, to)
		}
	}
	for name := range cfg.Locals {
		g.Add(localNode(name))
	}
	for name := range cfg.Hosts {
		g.Add(hostNode(name))
	}
	for addr := range cfg.Resources {
		g.Add(resourceNode(addr))
	}
	for name := range cfg.Outputs {
		g.Add(outputNode(name))
	}

	for name, l := range cfg.Locals {
		refs, d := lang.ExprRefs(l.Expr)
		diags = append(diags, d...)
		connect(localNode(name), refs)
	}
	for name, h := range cfg.Hosts {
		refs, d := lang.BodyRefs(h.Config, hostSpec)
		diags = append(diags, d...)
		connect(hostNode(name), refs)
	}
	for addr, r := range cfg.Resources {
		from := resourceNode(addr)
		if rs, ok := specs[addr]; ok {
			refs, d := lang.BodyRefs(r.Config, rs.spec)
			diags = append(diags, d...)
			connect(from, refs)
		}
		for _, e := range []hcl.Expression{r.Count, r.ForEach} {
			if e != nil {
				refs, d := lang.ExprRefs(e)
				diags = append(diags, d...)
				connect(from, refs)
			}
		}
		for _, travs := range [][]hcl.Traversal{r.DependsOn, r.Lifecycle.ReplaceTriggeredBy} {
			refs, d := lang.TraversalRefs(travs)
			diags = append(diags, d...)
			connect(from, refs)
		}
	}
	for name, o := range cfg.Outputs {
		refs, d := lang.ExprRefs(o.Expr)
		diags = append(diags, d...)
		connect(outputNode(name), refs)
		refs, d = lang.TraversalRefs(o.DependsOn)
		diags = append(diags, d...)
		connect(outputNode(name), refs)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	for _, cycle := range g.Cycles() {
		names := make([]string, len(cycle))
		for i, n := range cycle {
			names[i] = string(n)
		}
		sort.Strings(names)
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cycle in configuration",
			Detail: fmt.Sprintf("These objects refer to each other in a loop: %s. Break the loop by removing one of the references.",
				strings.Join(names, ", ")),
			Subject: declRange(cfg, node(names[0])),
		})
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return &configGraph{g: g, resourceDeps: resourceDeps(cfg, g)}, diags
}

// resourceDeps finds, for each resource, the nearest resources it depends
// on, looking through locals, hosts and variables.
func resourceDeps(cfg *lang.Config, g *dag.Graph[node]) map[addrs.Resource][]addrs.Resource {
	byNode := make(map[node]addrs.Resource, len(cfg.Resources))
	for addr := range cfg.Resources {
		byNode[resourceNode(addr)] = addr
	}
	out := make(map[addrs.Resource][]addrs.Resource, len(cfg.Resources))
	for addr := range cfg.Resources {
		seen := map[node]bool{}
		var found []addrs.Resource
		var visit func(n node)
		visit = func(n node) {
			for _, d := range g.DependsOn(n) {
				if seen[d] {
					continue
				}
				seen[d] = true
				if r, ok := byNode[d]; ok {
					found = append(found, r)
					continue
				}
				visit(d)
			}
		}
		visit(resourceNode(addr))
		sort.Slice(found, func(i, j int) bool { return found[i].String() < found[j].String() })
		out[addr] = found
	}
	return out
}

// refNode maps a reference to the graph node it depends on; references to
// count, each, path and self need no node.
func refNode(cfg *lang.Config, ref lang.Ref) (node, bool) {
	switch ref.Kind {
	case lang.RefVar:
		return varNode(ref.Name), true
	case lang.RefLocal:
		return localNode(ref.Name), true
	case lang.RefHost:
		return hostNode(ref.Name), true
	case lang.RefResource:
		return resourceNode(ref.Resource), true
	}
	return "", false
}

func declRange(cfg *lang.Config, n node) *hcl.Range {
	kind, name, _ := strings.Cut(string(n), ".")
	var r hcl.Range
	switch kind {
	case "var":
		r = cfg.Variables[name].DeclRange
	case "local":
		r = cfg.Locals[name].DeclRange
	case "host":
		r = cfg.Hosts[name].DeclRange
	case "output":
		r = cfg.Outputs[name].DeclRange
	default:
		addr, err := addrs.ParseResource(string(n))
		if err != nil {
			return nil
		}
		r = cfg.Resources[addr].DeclRange
	}
	return &r
}

// GraphDOT renders the configuration's dependency graph for `drover graph`.
func GraphDOT(ctx context.Context, cfg *lang.Config, reg *providers.Registry) (string, hcl.Diagnostics) {
	schemas, diags := lookupSchemas(ctx, reg, cfg)
	if diags.HasErrors() {
		return "", diags
	}
	g, d := buildGraph(cfg, schemas)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return "", diags
	}
	return g.g.DOT(func(n node) string { return string(n) }), diags
}
