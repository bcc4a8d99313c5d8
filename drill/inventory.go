package drill

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"sync"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/hashicorp/go-multierror"
)

// JournalName is the inventory's journal in the drill's folder.
const JournalName = "inventory.jsonl"

// journalFormat and journalVersion open every journal; a reader refuses
// another format or a newer version rather than guess what it leaves.
const (
	journalFormat  = "drover-drill-inventory"
	journalVersion = 1
)

// Object is one thing a drill creates, as its inventory journals it.
type Object struct {
	// Seq orders the objects as they were recorded; teardown goes back
	// from the last.
	Seq int `json:"seq"`
	// Kind says who removes and checks it: a built-in kind (File, Mount,
	// Loop, Netns, Process) or one the engine registers (InventoryOptions.Kinds).
	Kind string `json:"kind"`
	// Host names the host the object lives on.
	Host string `json:"host"`
	// ID is what identifies the object on its host, known before it
	// exists: a path, a mount point, a loop device's backing file, a
	// namespace's name, a process's marker.
	ID string `json:"id"`
	// Note says what the object is for, in words, for the report.
	Note string `json:"note,omitempty"`
	// Attrs carry what a registered kind needs beyond ID.
	Attrs map[string]string `json:"attrs,omitempty"`
}

func (o Object) String() string {
	s := fmt.Sprintf("%s %s on host %q", o.Kind, o.ID, o.Host)
	if o.Note != "" {
		s += " (" + o.Note + ")"
	}
	return s
}

// Kind removes and checks the objects of one kind. Both must work from
// the Object alone, in a process other than the one that created it.
type Kind interface {
	// Remove removes o from h. An object already gone, or never created
	// (its creator died between journalling and creating it), is not an
	// error: teardown runs again after an interruption.
	Remove(ctx context.Context, h host.Host, o Object) error
	// Left says what of o is still on h, in words, or "" when nothing is.
	Left(ctx context.Context, h host.Host, o Object) (string, error)
}

// InventoryOptions shape an inventory.
type InventoryOptions struct {
	// Hosts reaches the host an object names; an inventory reopened in
	// another process reaches its hosts through it.
	Hosts func(name string) (host.Host, error)
	// Kinds are the kinds whose creators live elsewhere (addresses, DNS
	// records, guests), by name, beside the built-in ones.
	Kinds map[string]Kind
}

// Inventory is the journal of what one drill created: every object is
// written to it, durably, before it is created, so that whatever ends the
// drill (a failure, a SIGKILL) a teardown finds it.
type Inventory struct {
	h    host.Host
	file string
	id   string
	opts InventoryOptions
	mu   sync.Mutex
	objs []Object
	gone map[int]bool
	// void are the objects found taken by something else as they were
	// to be created: neither removed nor checked.
	void  map[int]bool
	jfile host.File
}

// record is one line of the journal: the header, an object journalled
// before its creation, or one removed.
type record struct {
	Format  string  `json:"format,omitempty"`
	Version int     `json:"version,omitempty"`
	Drill   string  `json:"drill,omitempty"`
	Create  *Object `json:"create,omitempty"`
	Removed int     `json:"removed,omitempty"`
	Void    int     `json:"void,omitempty"`
}

// OpenInventory opens the inventory of the drill whose folder is dir on h,
// starting a new one (with a new drill ID) where there is none yet, and
// holds it until Close: another process opening it meanwhile is refused. A
// last line cut short by a crash is dropped: the object it would have named
// was not created yet.
func OpenInventory(ctx context.Context, h host.Host, dir string, opts InventoryOptions) (*Inventory, error) {
	inv := &Inventory{h: h, file: path.Join(dir, JournalName), opts: opts, gone: map[int]bool{}, void: map[int]bool{}}
	if err := h.MkdirAll(ctx, dir, 0o700); err != nil {
		return nil, err
	}
	f, err := h.OpenFile(ctx, inv.file, os.O_RDWR|os.O_CREATE|os.O_APPEND|noFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the drill's inventory: %w", err)
	}
	err = lock(f, inv.file)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(f)
	}
	if err == nil {
		err = inv.read(b)
	}
	if err == nil && len(b) > 0 && b[len(b)-1] != '\n' {
		err = f.Truncate(int64(bytes.LastIndexByte(b, '\n') + 1))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	inv.jfile = f
	if inv.id == "" {
		var r [6]byte
		rand.Read(r[:])
		inv.id = hex.EncodeToString(r[:])
		if err := inv.append(record{Format: journalFormat, Version: journalVersion, Drill: inv.id}); err != nil {
			f.Close()
			return nil, err
		}
	}
	return inv, nil
}

// read replays the journal b.
func (inv *Inventory) read(b []byte) error {
	lines := bytes.SplitAfter(b, []byte("\n"))
	for i, line := range lines {
		if len(line) == 0 {
			continue
		}
		if line[len(line)-1] != '\n' {
			// A record is written with its newline in one write, synced
			// before its object is made: one cut short named nothing made.
			return nil
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("%s:%d: not an inventory record (%v); the journal was changed by hand: remove what it lists by hand, then the file", inv.file, i+1, err)
		}
		switch {
		case i == 0:
			if r.Format != journalFormat || r.Drill == "" {
				return fmt.Errorf("%s: not a drill inventory", inv.file)
			}
			if r.Version > journalVersion {
				return fmt.Errorf("%s: inventory version %d is newer than this Drover's %d; tear the drill down with the Drover that ran it", inv.file, r.Version, journalVersion)
			}
			inv.id = r.Drill
		case r.Create != nil:
			inv.objs = append(inv.objs, *r.Create)
		case r.Removed > 0:
			inv.gone[r.Removed] = true
		case r.Void > 0:
			inv.gone[r.Void] = true
			inv.void[r.Void] = true
		}
	}
	return nil
}

// append writes r as one line and syncs it.
func (inv *Inventory) append(r record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := inv.jfile.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing the drill's inventory %s: %w", inv.file, err)
	}
	if err := inv.jfile.Sync(); err != nil {
		return fmt.Errorf("syncing the drill's inventory %s: %w", inv.file, err)
	}
	return nil
}

// ID is the drill's identity, part of the names of what it creates.
func (inv *Inventory) ID() string { return inv.id }

// Name is a name for an object of the drill: unique to the drill and
// telling whose it is (a namespace, a process marker).
func (inv *Inventory) Name(what string) string { return "drover-drill-" + inv.id + "-" + what }

// Objects lists what the inventory holds, removed or not, in the order
// recorded.
func (inv *Inventory) Objects() []Object {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return slices.Clone(inv.objs)
}

// Record journals o, on h, before its creator creates it, and returns it
// with its place in the inventory. Nothing may be created before Record
// returns without an error.
func (inv *Inventory) Record(ctx context.Context, h host.Host, o Object) (Object, error) {
	if err := ctx.Err(); err != nil {
		return Object{}, err
	}
	if _, err := inv.kind(o.Kind); err != nil {
		return Object{}, err
	}
	if o.ID == "" {
		return Object{}, fmt.Errorf("a drill object of kind %s needs an ID", o.Kind)
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	o.Seq = len(inv.objs) + 1
	o.Host = h.Name()
	if err := inv.append(record{Create: &o}); err != nil {
		return Object{}, err
	}
	inv.objs = append(inv.objs, o)
	return o, nil
}

func (inv *Inventory) kind(name string) (Kind, error) {
	if k, ok := builtinKinds[name]; ok {
		return k, nil
	}
	if k, ok := inv.opts.Kinds[name]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("no drill object kind %q is known here; the engine registers the kinds it creates (InventoryOptions.Kinds)", name)
}

// object returns the host and kind of o.
func (inv *Inventory) object(o Object) (host.Host, Kind, error) {
	k, err := inv.kind(o.Kind)
	if err != nil {
		return nil, nil, err
	}
	if o.Host == inv.h.Name() {
		return inv.h, k, nil
	}
	if inv.opts.Hosts == nil {
		return nil, nil, fmt.Errorf("%s: the inventory was opened without a way to reach other hosts (InventoryOptions.Hosts)", o)
	}
	h, err := inv.opts.Hosts(o.Host)
	if err != nil {
		return nil, nil, fmt.Errorf("reaching host %q for %s: %w", o.Host, o, err)
	}
	return h, k, nil
}

// Void records that o was not created, for something else was there
// already: the teardown must not remove that, nor the proof count it.
func (inv *Inventory) Void(o Object) error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if err := inv.append(record{Void: o.Seq}); err != nil {
		return err
	}
	inv.gone[o.Seq] = true
	inv.void[o.Seq] = true
	return nil
}

// Teardown removes every object not removed yet, the last created first,
// journalling each removal. It goes on past a failure, so that one stuck
// object does not keep the others, and reports every failure. Run again
// (after a failure, or in another process after a SIGKILL), it finishes
// the job: removing what is gone already is no error.
func (inv *Inventory) Teardown(ctx context.Context) error {
	var errs error
	for _, o := range slices.Backward(inv.Objects()) {
		inv.mu.Lock()
		gone := inv.gone[o.Seq]
		inv.mu.Unlock()
		if gone {
			continue
		}
		h, k, err := inv.object(o)
		if err == nil {
			err = k.Remove(ctx, h, o)
		}
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("removing %s: %w", o, err))
			continue
		}
		inv.mu.Lock()
		err = inv.append(record{Removed: o.Seq})
		if err == nil {
			inv.gone[o.Seq] = true
		}
		inv.mu.Unlock()
		if err != nil {
			return multierror.Append(errs, err)
		}
	}
	return errs
}

// Leak is an object of the drill still (partly) there.
type Leak struct {
	Object Object
	// Left says what remains, in words.
	Left string
}

func (l Leak) String() string { return l.Object.String() + ": " + l.Left }

// Prove checks every object the drill ever recorded, whatever the journal
// says of its removal (but for the void ones), and returns those still there. An object that
// cannot be checked is an error, never taken for gone.
func (inv *Inventory) Prove(ctx context.Context) ([]Leak, error) {
	var leaks []Leak
	var errs error
	for _, o := range inv.Objects() {
		inv.mu.Lock()
		void := inv.void[o.Seq]
		inv.mu.Unlock()
		if void {
			continue
		}
		h, k, err := inv.object(o)
		var left string
		if err == nil {
			left, err = k.Left(ctx, h, o)
		}
		switch {
		case err != nil:
			errs = multierror.Append(errs, fmt.Errorf("checking %s: %w", o, err))
		case left != "":
			leaks = append(leaks, Leak{Object: o, Left: left})
		}
	}
	return leaks, errs
}

// Close closes the journal.
func (inv *Inventory) Close() error { return inv.jfile.Close() }

// waitGone polls left until it reports nothing or the deadline passes.
func waitGone(ctx context.Context, limit time.Duration, left func() (string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		what, err := left()
		if err != nil || what == "" {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still there after %s: %s", limit, what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// isGone says whether err means the path is not there.
func isGone(err error) bool { return errors.Is(err, fs.ErrNotExist) }
