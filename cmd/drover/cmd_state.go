package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/cmd/drover/internal/render"
	"github.com/drover-dr/drover/internal/plural"
	"github.com/drover-dr/drover/internal/suggest"
	"github.com/drover-dr/drover/state"
	"github.com/spf13/cobra"
)

func newStateCommand(g *globalOptions) *cobra.Command {
	lo := &lockOptions{}
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Inspect and change the state by hand",
		Long:  "Subcommands that list, show, forget, re-address, download and upload the state.\n\n" + exitCodesHelp,
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the resource instances in the state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withState(cmd.Context(), g, nil, func(v *view, s *state.State) (bool, error) {
				for _, a := range s.SortedAddrs() {
					if v.json {
						inst := s.Instances[a]
						v.event("state_instance", map[string]any{"address": a.String(), "provider": inst.Provider, "status": inst.Status})
						continue
					}
					fmt.Fprintln(v.out, a)
				}
				return false, nil
			})
		},
	}
	show := &cobra.Command{
		Use:   "show ADDR",
		Short: "Show a resource instance, or every instance of a resource",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := addrs.ParseInstance(args[0])
			if err != nil {
				return err
			}
			return withState(cmd.Context(), g, nil, func(v *view, s *state.State) (bool, error) {
				found := instancesAt(s, addr)
				if len(found) == 0 {
					return false, fmt.Errorf("%s is not in the state%s: run `drover state list` to see what is", addr, nearestInState(s, addr))
				}
				some := state.New()
				some.Lineage, some.Serial = s.Lineage, s.Serial
				for _, a := range found {
					some.Set(s.Instance(a))
				}
				if v.json {
					// As show --json: the state document, redacted.
					doc, err := state.Marshal(redacted(some))
					if err != nil {
						return false, err
					}
					return false, v.document(doc)
				}
				return false, render.State(v.out, some, render.Options{Color: v.color})
			})
		},
	}
	rm := &cobra.Command{
		Use:   "rm ADDR...",
		Short: "Forget resource instances (all of a resource's, by its address) without destroying them",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := parseAddrs("rm", args)
			if err != nil {
				return err
			}
			return withState(cmd.Context(), g, lo, func(v *view, s *state.State) (bool, error) {
				var remove []addrs.Instance
				for _, a := range targets {
					found := instancesAt(s, a)
					if len(found) == 0 {
						return false, fmt.Errorf("%s is not in the state%s; nothing was changed", a, nearestInState(s, a))
					}
					remove = append(remove, found...)
				}
				for _, a := range remove {
					if s.Instance(a) != nil {
						s.Remove(a)
						if v.json {
							v.event("state_removed", map[string]any{"address": a.String()})
							continue
						}
						fmt.Fprintf(v.out, "Removed %s\n", a)
					}
				}
				return true, nil
			})
		},
	}
	mv := &cobra.Command{
		Use:   "mv FROM TO",
		Short: "Give a resource instance, or every instance of a resource, a new address",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			as, err := parseAddrs("mv", args)
			if err != nil {
				return err
			}
			from, to := as[0], as[1]
			if from.Type != to.Type || from.Mode != to.Mode {
				return fmt.Errorf("cannot move %s to %s: the resource type must stay the same", from, to)
			}
			return withState(cmd.Context(), g, lo, func(v *view, s *state.State) (bool, error) {
				if s.Instance(from) == nil && from.Key.Kind == addrs.NoKey && to.Key.Kind == addrs.NoKey {
					n := len(s.Resource(from.Resource))
					if n == 0 {
						return false, fmt.Errorf("%s is not in the state%s; nothing was changed", from, nearestInState(s, from))
					}
					if !s.MoveResource(from.Resource, to.Resource) {
						return false, fmt.Errorf("%s already has instances in the state; nothing was changed", to)
					}
					if v.json {
						v.event("state_moved", map[string]any{"from": from.String(), "to": to.String(), "instances": n})
					} else {
						fmt.Fprintf(v.out, "Moved %s to %s (%s)\n", from, to, plural.Count(n, "instance"))
					}
					return true, nil
				}
				if !s.Move(from, to) {
					if s.Instance(from) == nil {
						return false, fmt.Errorf("%s is not in the state%s; nothing was changed", from, nearestInState(s, from))
					}
					return false, fmt.Errorf("%s is already in the state; nothing was changed", to)
				}
				if v.json {
					v.event("state_moved", map[string]any{"from": from.String(), "to": to.String(), "instances": 1})
				} else {
					fmt.Fprintf(v.out, "Moved %s to %s\n", from, to)
				}
				return true, nil
			})
		},
	}
	pull := &cobra.Command{
		Use:   "pull",
		Short: "Print the stored state document (sensitive values included)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withState(cmd.Context(), g, nil, func(v *view, s *state.State) (bool, error) {
				b, err := state.Marshal(s)
				if err != nil {
					return false, err
				}
				if v.json {
					return false, v.document(b)
				}
				_, err = fmt.Fprintln(v.out, string(b))
				return false, err
			})
		},
	}
	var force bool
	push := &cobra.Command{
		Use:   "push FILE",
		Short: "Replace the stored state with a state document (- for stdin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = os.Stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			raw, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			pushed, err := state.Unmarshal(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			v := g.newView()
			cfg := quietConfig()
			b, err := backend(v, cfg)
			if err != nil {
				return err
			}
			unlock, err := lo.take(cmd.Context(), b, "state push")
			if err != nil {
				return err
			}
			defer unlock()
			if err := b.Persist(cmd.Context(), pushed, state.PersistOptions{Force: force}); err != nil {
				if _, ok := errors.AsType[*state.RefusedError](err); ok {
					return fmt.Errorf("%w; to replace the stored state with %s anyway, run `drover state push --force %s`", err, args[0], args[0])
				}
				return err
			}
			if v.json {
				v.event("state_pushed", map[string]any{"instances": len(pushed.Instances), "serial": pushed.Serial})
				return nil
			}
			fmt.Fprintf(v.out, "Pushed %s; the state is now serial %d.\n", plural.Count(len(pushed.Instances), "instance"), pushed.Serial)
			return nil
		},
	}
	push.Flags().BoolVar(&force, "force", false, "replace the state even if the lineage differs or the serial is older")
	for _, c := range []*cobra.Command{rm, mv, push} {
		lo.addFlags(c)
	}
	cmd.AddCommand(list, show, rm, mv, pull, push)
	return cmd
}

// withState runs fn on the stored state; when lo is set the state is
// locked, and fn returning true persists the change.
func withState(ctx context.Context, g *globalOptions, lo *lockOptions, fn func(*view, *state.State) (bool, error)) error {
	v := g.newView()
	cfg := quietConfig()
	b, err := backend(v, cfg)
	if err != nil {
		return err
	}
	if lo != nil {
		unlock, err := lo.take(ctx, b, "state")
		if err != nil {
			return err
		}
		defer unlock()
	}
	s, err := readState(ctx, b)
	if err != nil {
		return err
	}
	changed, err := fn(v, s)
	if err != nil || !changed {
		return err
	}
	return b.Persist(ctx, s, state.PersistOptions{})
}

// instancesAt lists the instances addr names in s: the instance itself, or,
// for a resource address that is no instance, every instance of the
// resource.
func instancesAt(s *state.State, addr addrs.Instance) []addrs.Instance {
	if s.Instance(addr) != nil {
		return []addrs.Instance{addr}
	}
	if addr.Key.Kind != addrs.NoKey {
		return nil
	}
	var out []addrs.Instance
	for _, inst := range s.Resource(addr.Resource) {
		out = append(out, inst.Addr)
	}
	return out
}

// nearestInState is ` (did you mean X?)` for the instance or resource
// address in s nearest to addr, or "".
func nearestInState(s *state.State, addr addrs.Instance) string {
	var names []string
	seen := map[addrs.Resource]bool{}
	for a := range s.Instances {
		names = append(names, a.String())
		if !seen[a.Resource] {
			seen[a.Resource] = true
			names = append(names, a.Resource.String())
		}
	}
	if near := suggest.Nearest(addr.String(), names); near != "" {
		return " (did you mean " + near + "?)"
	}
	return ""
}
