package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// heldName is the journal, in a drill's run folder, of what its steps'
// resources hold: the drill's own state, never the configuration's. Its
// intents are synced before a provider acts, as the state's journal's
// are, so that drover drill cleanup gives back what a drill kept up
// (--keep) or killed (SIGKILL) left on the drill's DNS or Samba server.
const heldName = "step-resources.jsonl"

// heldJournal is a state.Journal of a drill's step resources, one
// state.MarshalEntry line each; the runbook's own entries are left out,
// since a drill never writes the state's runbooks.
type heldJournal struct {
	mu sync.Mutex
	f  host.File
}

func openHeld(ctx context.Context, machine host.Host, dir string) (*heldJournal, error) {
	f, err := machine.OpenFile(ctx, path.Join(dir, heldName), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the journal of the drill's step resources: %w", err)
	}
	return &heldJournal{f: f}, nil
}

func (j *heldJournal) write(sync bool, entries []state.JournalEntry) error {
	var b []byte
	for _, e := range entries {
		if e.Runbook != nil {
			continue
		}
		line, err := state.MarshalEntry(e)
		if err != nil {
			return err
		}
		b = append(append(b, line...), '\n')
	}
	if len(b) == 0 {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(b); err != nil {
		return err
	}
	if sync {
		return j.f.Sync()
	}
	return nil
}

func (j *heldJournal) Record(entries ...state.JournalEntry) error { return j.write(true, entries) }
func (j *heldJournal) Append(entries ...state.JournalEntry) error { return j.write(false, entries) }

// Commit is never called on a drill's journal: what it holds is given
// back, never persisted.
func (j *heldJournal) Commit(ctx context.Context, final *state.State) error {
	return errors.New("a drill's step resources are given back, never committed to a state")
}

func (j *heldJournal) Close() error { return j.f.Close() }

// readHeld replays the journal of the drill whose run folder is dir: what
// its steps' resources still hold. A last line cut short by a crash is
// dropped, as the state's journal drops it: the intent it wrote was not
// acted on.
func readHeld(ctx context.Context, machine host.Host, dir string) (*state.State, error) {
	held := state.New()
	f, err := machine.Open(ctx, path.Join(dir, heldName))
	if errors.Is(err, fs.ErrNotExist) {
		return held, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	for i, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) == 0 || line[len(line)-1] != '\n' {
			continue
		}
		e, err := state.UnmarshalEntry(bytes.TrimSuffix(line, []byte("\n")))
		if err == nil {
			err = held.Replay(e)
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path.Join(dir, heldName), i+1, err)
		}
	}
	return held, nil
}

// heldByDrill is what the drill's steps created and still hold, out of
// the state its run ended with.
func heldByDrill(rb *plan.Runbook, final *state.State) *state.State {
	held := state.New()
	for _, s := range rb.Steps {
		if s.Action != plan.StepResources {
			continue
		}
		for _, c := range s.Changes {
			if inst := final.Instance(c.Addr); inst != nil {
				held.Set(inst)
			}
		}
	}
	return held
}

// releaseHeld destroys the step resources held, as a failback gives them
// back, journalling each removal in j: records on the drill's DNS server
// and shares in its Samba configuration, which no teardown of the drill's
// folder or namespace removes, are gone when the drill runs again. One
// whose creation was cut short is destroyed from its planned value, what
// only its creation could tell left null.
func releaseHeld(ctx context.Context, held *state.State, reg *providers.Registry, parallelism int, j state.Journal) hcl.Diagnostics {
	var changes []*plan.Change
	for _, inst := range held.Instances {
		attrs := unknownAsNull(inst.Attrs)
		changes = append(changes, &plan.Change{Addr: inst.Addr, Provider: inst.Provider, Action: plan.Delete,
			Before: attrs, After: cty.NullVal(attrs.Type()), SensitivePaths: inst.SensitivePaths, Dependencies: inst.Dependencies})
	}
	if len(changes) == 0 {
		return nil
	}
	_, diags := Apply(ctx, &plan.Plan{Mode: plan.Normal, Lineage: held.Lineage, Serial: held.Serial, Changes: changes}, held,
		Options{Providers: reg, Parallelism: parallelism, Journal: j})
	return diags
}

// releaseDrill gives back what the journal of the drill whose run folder
// is dir says its steps' resources hold.
func releaseDrill(ctx context.Context, machine host.Host, dir string, reg *providers.Registry) hcl.Diagnostics {
	held, err := readHeld(ctx, machine, dir)
	var j *heldJournal
	if err == nil && len(held.Instances) > 0 {
		j, err = openHeld(ctx, machine, dir)
	}
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the drill's step resources",
			Detail: fmt.Sprintf("%s; destroy what the drill's steps created (DNS records, shares) by hand.", err)}}
	}
	if j == nil {
		return nil
	}
	defer j.Close()
	diags := releaseHeld(ctx, held, reg, 1, j)
	if !diags.HasErrors() {
		diags = append(diags, forgetHeld(ctx, machine, dir)...)
	}
	return diags
}

// forgetHeld removes the journal of a drill whose step resources are all
// given back: it holds their values, secrets (a TSIG key) included, as a
// state does, and nothing is left for it to list.
func forgetHeld(ctx context.Context, machine host.Host, dir string) hcl.Diagnostics {
	if err := machine.Remove(ctx, path.Join(dir, heldName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "Cannot remove the drill's journal",
			Detail: fmt.Sprintf("%s. What it lists is given back; remove the file by hand.", err)}}
	}
	return nil
}
