package state

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// The state document:
//
//	{"format_version": 1, "lineage": "...", "serial": N,
//	 "resources": [instance...],  // sorted by addrs.Instance.Less
//	 "outputs": {"name": {"type": T, "value": V, "sensitive": true}}}
//
// and each instance:
//
//	{"address": "value.x[0]", "mode": "managed", "type": "value", "name": "x",
//	 "index": 0, "provider": "core", "schema_version": 0, "status": "ready",
//	 "attributes": {"type": T, "value": V}, "private": "<base64>",
//	 "sensitive_paths": [["password"], ["tags", {"key": "owner"}]],
//	 "dependencies": ["value.y"], "create_before_destroy": true}
//
// T is a cty type and V a value in go-cty's JSON form, so other tools can
// read the document without Drover's schemas. Values are stored in full,
// sensitive ones included: the state file is the one place that keeps them.
// The same instance form, on one line, is a journal's "set" entry.

// Marshal writes s as its canonical JSON document: the same state always
// gives the same bytes. Every value must be known and unmarked; the error
// names the instance or output that is not.
func Marshal(s *State) ([]byte, error) {
	if s == nil {
		return nil, errors.New("no state to write")
	}
	if s.Lineage == "" {
		return nil, errors.New("the state has no lineage")
	}
	w := &writer{b: make([]byte, 0, 1024+768*len(s.Instances))}
	w.b = append(w.b, "{\n  \"format_version\": "...)
	w.b = strconv.AppendInt(w.b, FormatVersion, 10)
	w.b = append(w.b, ",\n  \"lineage\": "...)
	w.b = appendString(w.b, s.Lineage)
	w.b = append(w.b, ",\n  \"serial\": "...)
	w.b = strconv.AppendUint(w.b, s.Serial, 10)
	w.b = append(w.b, ",\n  \"resources\": ["...)
	for i, addr := range sortedAddrs(s.Instances) {
		inst := s.Instances[addr]
		if inst.Addr != addr {
			return nil, fmt.Errorf("%s is stored under the address %s", inst.Addr, addr)
		}
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, "\n    "...)
		if err := w.instance(inst, 2); err != nil {
			return nil, err
		}
	}
	if len(s.Instances) > 0 {
		w.b = append(w.b, "\n  "...)
	}
	w.b = append(w.b, "],\n  \"outputs\": {"...)
	names := make([]string, 0, len(s.Outputs))
	for name := range s.Outputs {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, "\n    "...)
		w.b = appendString(w.b, name)
		w.b = append(w.b, ": "...)
		if err := w.output(s.Outputs[name], 2, nil); err != nil {
			return nil, fmt.Errorf("output %q: %w", name, err)
		}
	}
	if len(names) > 0 {
		w.b = append(w.b, "\n  "...)
	}
	w.b = append(w.b, '}')
	if err := w.appendRunbooks(s); err != nil {
		return nil, err
	}
	w.b = append(w.b, "\n}\n"...)
	return w.b, nil
}

// sortedAddrs orders like addrs.Instance.Less, rendering each resource
// name once rather than twice per comparison.
func sortedAddrs(m map[addrs.Instance]*Instance) []addrs.Instance {
	type keyed struct {
		res  string
		addr addrs.Instance
	}
	ks := make([]keyed, 0, len(m))
	for a := range m {
		ks = append(ks, keyed{a.Resource.String(), a})
	}
	slices.SortFunc(ks, func(x, y keyed) int {
		if c := strings.Compare(x.res, y.res); c != 0 {
			return c
		}
		if x.addr.Key.Less(y.addr.Key) {
			return -1
		}
		if y.addr.Key.Less(x.addr.Key) {
			return 1
		}
		return 0
	})
	out := make([]addrs.Instance, len(ks))
	for i, k := range ks {
		out[i] = k.addr
	}
	return out
}

// writer appends the canonical form. The document's structure is indented
// two spaces a level (or written on one line when compact); each cty type
// and value stays on one line, which keeps a resource a short block.
type writer struct {
	b       []byte
	compact bool
	types   typeCache
}

// field starts the next member of an object at depth.
func (w *writer) field(first bool, depth int, key string) {
	if !first {
		w.b = append(w.b, ',')
	}
	if !w.compact {
		w.b = append(w.b, '\n')
		for range depth {
			w.b = append(w.b, "  "...)
		}
	}
	w.b = appendString(w.b, key)
	w.b = append(w.b, ':')
	if !w.compact {
		w.b = append(w.b, ' ')
	}
}

// end closes an object opened at depth.
func (w *writer) end(depth int) {
	if !w.compact {
		w.b = append(w.b, '\n')
		for range depth {
			w.b = append(w.b, "  "...)
		}
	}
	w.b = append(w.b, '}')
}

func (w *writer) instance(inst *Instance, depth int) error {
	switch inst.Status {
	case Ready, Tainted, Pending:
	default:
		return fmt.Errorf("%s: status %q is not ready, tainted or pending", inst.Addr, inst.Status)
	}
	if inst.Attrs == cty.NilVal {
		return fmt.Errorf("%s has no attributes", inst.Addr)
	}
	a := inst.Addr
	in := depth + 1
	w.b = append(w.b, '{')
	w.field(true, in, "address")
	w.b = appendString(w.b, a.String())
	w.field(false, in, "mode")
	w.b = appendString(w.b, modeName(a.Mode))
	w.field(false, in, "type")
	w.b = appendString(w.b, a.Type)
	w.field(false, in, "name")
	w.b = appendString(w.b, a.Name)
	switch a.Key.Kind {
	case addrs.IntKey:
		w.field(false, in, "index")
		w.b = strconv.AppendInt(w.b, int64(a.Key.Int), 10)
	case addrs.StrKey:
		w.field(false, in, "index")
		w.b = appendString(w.b, a.Key.Str)
	}
	w.field(false, in, "provider")
	w.b = appendString(w.b, inst.Provider)
	w.field(false, in, "schema_version")
	w.b = strconv.AppendInt(w.b, inst.SchemaVersion, 10)
	w.field(false, in, "status")
	w.b = appendString(w.b, string(inst.Status))
	w.field(false, in, "attributes")
	w.b = append(w.b, '{')
	if err := w.value(inst.Attrs, in+1, true); err != nil {
		return fmt.Errorf("%s: %w", a, err)
	}
	w.end(in)
	if len(inst.Private) > 0 {
		w.field(false, in, "private")
		w.b = append(w.b, '"')
		w.b = base64.StdEncoding.AppendEncode(w.b, inst.Private)
		w.b = append(w.b, '"')
	}
	if len(inst.SensitivePaths) > 0 {
		w.field(false, in, "sensitive_paths")
		w.b = append(w.b, '[')
		for i, p := range canonicalPaths(inst.SensitivePaths) {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = append(w.b, p...)
		}
		w.b = append(w.b, ']')
	}
	if len(inst.Dependencies) > 0 {
		deps := make([]string, len(inst.Dependencies))
		for i, d := range inst.Dependencies {
			deps[i] = d.String()
		}
		sort.Strings(deps)
		w.field(false, in, "dependencies")
		w.b = append(w.b, '[')
		for i, d := range slices.Compact(deps) {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = appendString(w.b, d)
		}
		w.b = append(w.b, ']')
	}
	if inst.CreateBeforeDestroy {
		w.field(false, in, "create_before_destroy")
		w.b = append(w.b, "true"...)
	}
	w.end(depth)
	return nil
}

// output writes an output as an object at depth, after the members in
// lead (the journal's "name").
func (w *writer) output(o Output, depth int, lead func()) error {
	if o.Value == cty.NilVal {
		return errors.New("no value")
	}
	w.b = append(w.b, '{')
	if lead != nil {
		lead()
	}
	if err := w.value(o.Value, depth+1, lead == nil); err != nil {
		return err
	}
	if o.Sensitive {
		w.field(false, depth+1, "sensitive")
		w.b = append(w.b, "true"...)
	}
	w.end(depth)
	return nil
}

// value writes the "type" and "value" members of an open object; first
// tells whether they open it.
func (w *writer) value(v cty.Value, depth int, first bool) error {
	tb, err := w.types.marshal(v.Type())
	if err != nil {
		return err
	}
	w.field(first, depth, "type")
	w.b = append(w.b, tb...)
	w.field(false, depth, "value")
	if w.b, err = appendValue(w.b, v); err != nil {
		var pe cty.PathError
		if errors.As(err, &pe) && len(pe.Path) > 0 {
			return fmt.Errorf("attribute %s: %w; %s", attrPath(pe.Path), err, storedValues)
		}
		return fmt.Errorf("%w; %s", err, storedValues)
	}
	return nil
}

const storedValues = "the state stores only known values without marks (sensitive parts are listed in sensitive_paths)"

// typeCache remembers the JSON of recently written types: the instances of
// one resource share a type, and writing a type costs more than comparing.
type typeCache struct {
	types []cty.Type
	json  [][]byte
}

func (c *typeCache) marshal(t cty.Type) ([]byte, error) {
	for i := len(c.types) - 1; i >= 0; i-- {
		if c.types[i].Equals(t) {
			return c.json[i], nil
		}
	}
	b, err := ctyjson.MarshalType(t)
	if err != nil {
		return nil, err
	}
	if len(c.types) == 8 {
		c.types, c.json = c.types[1:], c.json[1:]
	}
	c.types = append(c.types, t)
	c.json = append(c.json, b)
	return b, nil
}

// canonicalPaths returns the written form of each path, sorted, without
// duplicates.
func canonicalPaths(paths []cty.Path) [][]byte {
	out := make([][]byte, len(paths))
	for i, p := range paths {
		out[i] = appendPath(nil, p)
	}
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal)
}

// attrPath renders a path inside an attribute object: `disks[0].size`.
func attrPath(p cty.Path) string {
	return strings.TrimPrefix(FormatPath(p), ".")
}

func modeName(m addrs.Mode) string {
	if m == addrs.Data {
		return "data"
	}
	return "managed"
}

// Unmarshal reads a state document. It checks the format version first,
// then that every instance is consistent (its address matches its mode,
// type, name and index; no address appears twice), and reports the first
// problem by address. It never panics on malformed input.
func Unmarshal(b []byte) (*State, error) {
	var doc document
	err := unmarshalJSON(b, &doc)
	if err != nil {
		// A document of another version may not fit this one's layout:
		// report the version rather than the misfit.
		var head struct {
			FormatVersion *int `json:"format_version"`
		}
		if json.Unmarshal(b, &head) == nil && head.FormatVersion != nil {
			doc.FormatVersion = head.FormatVersion
		}
	}
	switch {
	case doc.FormatVersion != nil && *doc.FormatVersion != FormatVersion:
		return nil, fmt.Errorf("state format version %d is not supported: this Drover reads version %d; use the Drover release that wrote it", *doc.FormatVersion, FormatVersion)
	case err != nil:
		return nil, fmt.Errorf("not a Drover state document: %w", err)
	case doc.FormatVersion == nil:
		return nil, errors.New("not a Drover state document: it has no format_version")
	}
	if doc.Lineage == "" {
		return nil, errors.New("the state document has no lineage")
	}
	s := &State{
		Lineage:   doc.Lineage,
		Serial:    doc.Serial,
		Instances: make(map[addrs.Instance]*Instance, len(doc.Resources)),
		Outputs:   make(map[string]Output, len(doc.Outputs)),
	}
	r := newReader()
	for i := range doc.Resources {
		inst, err := r.instance(&doc.Resources[i])
		if err != nil {
			return nil, err
		}
		if _, dup := s.Instances[inst.Addr]; dup {
			return nil, fmt.Errorf("%s appears twice in the state", inst.Addr)
		}
		s.Instances[inst.Addr] = inst
	}
	for name, o := range doc.Outputs {
		out, err := r.output(&o)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", name, err)
		}
		s.Outputs[name] = out
	}
	if err := r.runbooks(s, doc.Runbooks); err != nil {
		return nil, err
	}
	return s, nil
}

// validIdentifier is hclsyntax.ValidIdentifier with a fast path for ASCII
// names, which are nearly all of them: the general check runs HCL's
// scanner, a sixth of reading a large state.
func validIdentifier(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			return hclsyntax.ValidIdentifier(s)
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case i > 0 && ('0' <= c && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return s != ""
}

type document struct {
	FormatVersion *int                 `json:"format_version"`
	Lineage       string               `json:"lineage"`
	Serial        uint64               `json:"serial"`
	Resources     []docInstance        `json:"resources"`
	Outputs       map[string]docOutput `json:"outputs"`
	Runbooks      []docRunbook         `json:"runbooks"`
}

type docInstance struct {
	Address             string            `json:"address"`
	Mode                string            `json:"mode"`
	Type                string            `json:"type"`
	Name                string            `json:"name"`
	Index               json.RawMessage   `json:"index"`
	Provider            string            `json:"provider"`
	SchemaVersion       int64             `json:"schema_version"`
	Status              Status            `json:"status"`
	Attributes          *docValue         `json:"attributes"`
	Private             string            `json:"private"`
	SensitivePaths      []json.RawMessage `json:"sensitive_paths"`
	Dependencies        []string          `json:"dependencies"`
	CreateBeforeDestroy bool              `json:"create_before_destroy"`
}

// docValue holds a value as decoded JSON (numbers as json.Number): the
// document is parsed once, and the value built from it by its type. A
// missing "value" reads as null.
type docValue struct {
	Type  json.RawMessage `json:"type"`
	Value jsonAny         `json:"value"`
}

// jsonAny is any JSON value, with numbers kept as json.Number.
type jsonAny struct{ v any }

func (j *jsonAny) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(&j.v)
}

// unmarshalJSON decodes b into v, and refuses anything after the first
// JSON value.
func unmarshalJSON(b []byte, v any) error {
	err := json.Unmarshal(b, v)
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) && strings.Contains(syntax.Error(), "after top-level value") {
		return errors.New("unexpected data after the document")
	}
	return err
}

type docOutput struct {
	docValue
	Sensitive bool `json:"sensitive"`
}

// reader decodes the parts of a document, remembering the types and
// dependencies it has read: the instances of one resource repeat them, and
// reading a type is the costly part of reading a small instance.
type reader struct {
	types map[string]cty.Type
	deps  map[string]addrs.Resource
}

func newReader() *reader {
	return &reader{types: map[string]cty.Type{}, deps: map[string]addrs.Resource{}}
}

func (r *reader) instance(d *docInstance) (*Instance, error) {
	var addr addrs.Instance
	switch d.Mode {
	case "managed":
		addr.Mode = addrs.Managed
	case "data":
		addr.Mode = addrs.Data
	default:
		return nil, fmt.Errorf("resource %q: mode %q is not managed or data", d.Address, d.Mode)
	}
	if !validIdentifier(d.Type) || !validIdentifier(d.Name) {
		return nil, fmt.Errorf("resource %q: type %q and name %q must be identifiers", d.Address, d.Type, d.Name)
	}
	addr.Type, addr.Name = d.Type, d.Name
	if len(d.Index) > 0 && string(d.Index) != "null" {
		var err error
		if addr.Key, err = decodeKey(d.Index); err != nil {
			return nil, fmt.Errorf("resource %q: %w", d.Address, err)
		}
	}
	// The address is redundant, kept for readers; it must agree.
	if addr.String() != d.Address {
		return nil, fmt.Errorf("resource %q: mode %q, type %q, name %q and index %s do not match the address",
			d.Address, d.Mode, d.Type, d.Name, orNull(d.Index))
	}
	switch d.Status {
	case Ready, Tainted, Pending:
	default:
		return nil, fmt.Errorf("%s: status %q is not ready, tainted or pending", addr, d.Status)
	}
	inst := &Instance{Addr: addr, Provider: d.Provider, SchemaVersion: d.SchemaVersion, Status: d.Status,
		CreateBeforeDestroy: d.CreateBeforeDestroy}
	if d.Attributes == nil {
		return nil, fmt.Errorf("%s has no attributes", addr)
	}
	var err error
	if inst.Attrs, err = r.value(d.Attributes); err != nil {
		return nil, fmt.Errorf("%s: attributes: %w", addr, err)
	}
	if d.Private != "" {
		if inst.Private, err = base64.StdEncoding.DecodeString(d.Private); err != nil {
			return nil, fmt.Errorf("%s: private data is not base64: %w", addr, err)
		}
	}
	for _, raw := range d.SensitivePaths {
		p, err := decodePath(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: sensitive path: %w", addr, err)
		}
		inst.SensitivePaths = append(inst.SensitivePaths, p)
	}
	for _, dep := range d.Dependencies {
		res, ok := r.deps[dep]
		if !ok {
			if res, err = addrs.ParseResource(dep); err != nil {
				return nil, fmt.Errorf("%s: dependency: %w", addr, err)
			}
			r.deps[dep] = res
		}
		inst.Dependencies = append(inst.Dependencies, res)
	}
	return inst, nil
}

func orNull(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "null"
	}
	return string(raw)
}

func decodeKey(raw json.RawMessage) (addrs.Key, error) {
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return addrs.Key{}, fmt.Errorf("index: %w", err)
		}
		return addrs.StrK(s), nil
	}
	i, err := strconv.Atoi(string(raw))
	if err != nil || i < 0 {
		return addrs.Key{}, fmt.Errorf("index %s is not a whole number or a string", raw)
	}
	return addrs.IntK(i), nil
}

func (r *reader) value(d *docValue) (cty.Value, error) {
	if len(d.Type) == 0 {
		return cty.NilVal, errors.New(`a value needs a "type"`)
	}
	ty, ok := r.types[string(d.Type)]
	if !ok {
		var err error
		if ty, err = ctyjson.UnmarshalType(d.Type); err != nil {
			return cty.NilVal, fmt.Errorf("type: %w", err)
		}
		r.types[string(d.Type)] = ty
	}
	v, err := valueFromJSON(d.Value.v, ty)
	if err != nil {
		var pe cty.PathError
		if errors.As(err, &pe) && len(pe.Path) > 0 {
			return cty.NilVal, fmt.Errorf("value at %s: %w", attrPath(pe.Path), err)
		}
		return cty.NilVal, fmt.Errorf("value: %w", err)
	}
	return v, nil
}

func (r *reader) output(d *docOutput) (Output, error) {
	v, err := r.value(&d.docValue)
	if err != nil {
		return Output{}, err
	}
	return Output{Value: v, Sensitive: d.Sensitive}, nil
}
