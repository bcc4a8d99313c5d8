package plan

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// FormatVersion is the version of the plan document.
const FormatVersion = 1

// The document. Values are {"type": <cty type>, "value": <JSON>} with
// unknown and sensitive parts written as null and listed by path, so other
// tools can read a plan without knowing Drover's types.
type document struct {
	FormatVersion int                    `json:"format_version"`
	Mode          Mode                   `json:"mode"`
	Lineage       string                 `json:"lineage"`
	Serial        uint64                 `json:"serial"`
	ConfigHash    string                 `json:"config_hash"`
	Timestamp     string                 `json:"timestamp,omitempty"`
	Errored       bool                   `json:"errored,omitempty"`
	Variables     map[string]docVariable `json:"variables,omitempty"`
	Targets       []string               `json:"targets,omitempty"`
	Moved         []docMove              `json:"moved,omitempty"`
	Forgotten     []string               `json:"forgotten,omitempty"`
	Changes       []docChange            `json:"resource_changes"`
	Drift         []docChange            `json:"resource_drift,omitempty"`
	Outputs       []docOutput            `json:"output_changes,omitempty"`
	Runbook       *docRunbook            `json:"runbook,omitempty"`
	Summary       map[string]int         `json:"summary"`
	// MAC seals a saved plan to its workspace (see Seal); documents
	// printed by `show --json` have none.
	MAC string `json:"mac,omitempty"`
}

type docMove struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type docVariable struct {
	Value     *docValue `json:"value,omitempty"`
	Sensitive bool      `json:"sensitive,omitempty"`
	SHA256    string    `json:"sha256,omitempty"`
}

type docValue struct {
	Type         json.RawMessage `json:"type"`
	Value        json.RawMessage `json:"value"`
	UnknownPaths [][]any         `json:"unknown_paths,omitempty"`
	// RedactedPaths lists the sensitive parts that held a value and are
	// written as null; a sensitive part that was null is not among them.
	// Documents written before it existed lack it: then every sensitive
	// path counts as redacted.
	RedactedPaths *[][]any `json:"redacted_paths,omitempty"`
}

type docChange struct {
	Address             string       `json:"address"`
	Mode                string       `json:"mode"`
	Type                string       `json:"type"`
	Name                string       `json:"name"`
	Index               any          `json:"index,omitempty"`
	Provider            string       `json:"provider"`
	Action              string       `json:"action"`
	Symbol              string       `json:"symbol"`
	Reason              Reason       `json:"reason,omitempty"`
	Description         string       `json:"description,omitempty"`
	Before              *docValue    `json:"before"`
	After               *docValue    `json:"after"`
	SensitivePaths      [][]any      `json:"sensitive_paths,omitempty"`
	RequiresReplace     [][]any      `json:"requires_replace,omitempty"`
	Dependencies        []string     `json:"dependencies,omitempty"`
	CreateBeforeDestroy bool         `json:"create_before_destroy,omitempty"`
	ConfigUnknown       bool         `json:"config_unknown,omitempty"`
	Private             string       `json:"private,omitempty"`
	Timeouts            *docTimeouts `json:"timeouts,omitempty"`
	MovedFrom           string       `json:"moved_from,omitempty"`
	ImportID            string       `json:"import_id,omitempty"`
}

// docTimeouts are durations in Go's notation ("1h30m0s"), unset ones left out.
type docTimeouts struct {
	Read   string `json:"read,omitempty"`
	Create string `json:"create,omitempty"`
	Update string `json:"update,omitempty"`
	Delete string `json:"delete,omitempty"`
}

func encodeTimeouts(t Timeouts) *docTimeouts {
	if t == (Timeouts{}) {
		return nil
	}
	str := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return d.String()
	}
	return &docTimeouts{Read: str(t.Read), Create: str(t.Create), Update: str(t.Update), Delete: str(t.Delete)}
}

func decodeTimeouts(dt *docTimeouts) (Timeouts, error) {
	var t Timeouts
	if dt == nil {
		return t, nil
	}
	for _, f := range []struct {
		s   string
		dst *time.Duration
	}{{dt.Read, &t.Read}, {dt.Create, &t.Create}, {dt.Update, &t.Update}, {dt.Delete, &t.Delete}} {
		if f.s == "" {
			continue
		}
		d, err := time.ParseDuration(f.s)
		if err != nil || d <= 0 {
			return t, fmt.Errorf("invalid timeout %q", f.s)
		}
		*f.dst = d
	}
	return t, nil
}

type docOutput struct {
	Name      string    `json:"name"`
	Action    string    `json:"action"`
	Symbol    string    `json:"symbol"`
	Sensitive bool      `json:"sensitive,omitempty"`
	Before    *docValue `json:"before"`
	After     *docValue `json:"after"`
}

var actionsByVerb = map[string]Action{}

func init() {
	for a := NoOp; a <= Delete; a++ {
		actionsByVerb[actionName(a)] = a
	}
}

// actionName tells the two replace orders apart, unlike Verb.
func actionName(a Action) string {
	switch a {
	case DeleteThenCreate:
		return "delete-then-create"
	case CreateThenDelete:
		return "create-then-delete"
	}
	return a.Verb()
}

// Encode writes p as its versioned JSON document: canonically ordered,
// sensitive values redacted, unknown values marked. The same document is
// the saved plan file and the output of `show --json`. The refreshed prior
// state is not part of it: it may hold sensitive values.
func Encode(p *Plan) ([]byte, error) {
	doc, err := encodeDocument(p)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(doc, "", "  ")
}

func encodeDocument(p *Plan) (*document, error) {
	p.Sort()
	c := p.Counts()
	doc := document{
		FormatVersion: FormatVersion,
		Mode:          p.Mode,
		Lineage:       p.Lineage,
		Serial:        p.Serial,
		ConfigHash:    p.ConfigHash,
		Errored:       p.Errored,
		Variables:     map[string]docVariable{},
		Changes:       []docChange{},
		Summary:       map[string]int{"add": c.Add, "change": c.Change, "destroy": c.Destroy, "read": c.Read},
	}
	if !p.Timestamp.IsZero() {
		doc.Timestamp = p.Timestamp.UTC().Format(time.RFC3339)
	}
	if c.Import > 0 {
		doc.Summary["import"] = c.Import
	}
	if c.Forget > 0 {
		doc.Summary["forget"] = c.Forget
	}
	for name, v := range p.Variables {
		dv, err := encodeVariable(v)
		if err != nil {
			return nil, fmt.Errorf("variable %q: %w", name, err)
		}
		doc.Variables[name] = dv
	}
	for _, t := range p.Targets {
		doc.Targets = append(doc.Targets, t.String())
	}
	for _, m := range p.Moved {
		doc.Moved = append(doc.Moved, docMove{From: m.From.String(), To: m.To.String()})
	}
	for _, f := range p.Forgotten {
		doc.Forgotten = append(doc.Forgotten, f.String())
	}
	var err error
	if doc.Changes, err = encodeChanges(p.Changes); err != nil {
		return nil, err
	}
	if doc.Drift, err = encodeChanges(p.Drift); err != nil {
		return nil, err
	}
	for _, o := range p.Outputs {
		do := docOutput{Name: o.Name, Action: actionName(o.Action), Symbol: o.Action.String(), Sensitive: o.Sensitive}
		var redact []cty.Path
		if o.Sensitive {
			redact = []cty.Path{nil}
		}
		if do.Before, err = encodeValue(o.Before, redact); err != nil {
			return nil, fmt.Errorf("output %q: %w", o.Name, err)
		}
		if do.After, err = encodeValue(o.After, redact); err != nil {
			return nil, fmt.Errorf("output %q: %w", o.Name, err)
		}
		doc.Outputs = append(doc.Outputs, do)
	}
	if doc.Runbook, err = encodeRunbook(p.Runbook); err != nil {
		return nil, err
	}
	return &doc, nil
}

func encodeVariable(v cty.Value) (docVariable, error) {
	if v.ContainsMarked() {
		raw, _ := v.UnmarkDeep()
		b, err := ctyjson.Marshal(raw, raw.Type())
		if err != nil {
			return docVariable{}, err
		}
		sum := sha256.Sum256(b)
		return docVariable{Sensitive: true, SHA256: hex.EncodeToString(sum[:])}, nil
	}
	dv, err := encodeValue(v, nil)
	return docVariable{Value: dv}, err
}

// VariableHash is the hash a plan document keeps of a sensitive variable's
// value, so that applying a saved plan can check it is given the same one.
func VariableHash(v cty.Value) string {
	raw, _ := v.UnmarkDeep()
	b, err := ctyjson.Marshal(raw, raw.Type())
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func encodeChanges(changes []*Change) ([]docChange, error) {
	out := make([]docChange, 0, len(changes))
	for _, c := range changes {
		dc := docChange{
			Address:             c.Addr.String(),
			Mode:                "managed",
			Type:                c.Addr.Type,
			Name:                c.Addr.Name,
			Provider:            c.Provider,
			Action:              actionName(c.Action),
			Symbol:              c.Action.String(),
			Reason:              c.Reason,
			Description:         c.Description,
			CreateBeforeDestroy: c.CreateBeforeDestroy,
			ConfigUnknown:       c.ConfigUnknown,
			Timeouts:            encodeTimeouts(c.Timeouts),
		}
		if c.Addr.Mode == addrs.Data {
			dc.Mode = "data"
		}
		switch c.Addr.Key.Kind {
		case addrs.IntKey:
			dc.Index = c.Addr.Key.Int
		case addrs.StrKey:
			dc.Index = c.Addr.Key.Str
		}
		if len(c.Private) > 0 {
			dc.Private = base64.StdEncoding.EncodeToString(c.Private)
		}
		for _, d := range c.Dependencies {
			dc.Dependencies = append(dc.Dependencies, d.String())
		}
		sort.Strings(dc.Dependencies)
		if c.MovedFrom != nil {
			dc.MovedFrom = c.MovedFrom.String()
		}
		dc.ImportID = c.ImportID
		dc.SensitivePaths = encodePaths(c.SensitivePaths)
		dc.RequiresReplace = encodePaths(c.RequiresReplace)
		var err error
		if dc.Before, err = encodeValue(c.Before, c.SensitivePaths); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Addr, err)
		}
		if dc.After, err = encodeValue(c.After, c.SensitivePaths); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Addr, err)
		}
		out = append(out, dc)
	}
	return out, nil
}

// encodeValue writes v with the parts at redact (and below) as null, and
// unknown parts as null listed in UnknownPaths.
func encodeValue(v cty.Value, redact []cty.Path) (*docValue, error) {
	if v == cty.NilVal {
		return nil, nil
	}
	v, _ = v.UnmarkDeep()
	var unknown, redacted [][]any
	clean, err := cty.Transform(v, func(p cty.Path, x cty.Value) (cty.Value, error) {
		for _, r := range redact {
			if p.Equals(r) {
				if !x.IsKnown() || !x.IsNull() {
					redacted = append(redacted, encodePath(p))
				}
				return cty.NullVal(x.Type()), nil
			}
		}
		if !x.IsKnown() {
			unknown = append(unknown, encodePath(p))
			return cty.NullVal(x.Type()), nil
		}
		return x, nil
	})
	if err != nil {
		return nil, err
	}
	byText := func(paths [][]any) {
		sort.Slice(paths, func(i, j int) bool { return fmt.Sprint(paths[i]) < fmt.Sprint(paths[j]) })
	}
	byText(unknown)
	byText(redacted)
	ty := clean.Type()
	tb, err := ctyjson.MarshalType(ty)
	if err != nil {
		return nil, err
	}
	vb, err := ctyjson.Marshal(clean, ty)
	if err != nil {
		return nil, err
	}
	dv := &docValue{Type: tb, Value: vb, UnknownPaths: unknown}
	if len(redact) > 0 && !v.IsNull() {
		if redacted == nil {
			redacted = [][]any{}
		}
		dv.RedactedPaths = &redacted
	}
	return dv, nil
}

func encodePaths(paths []cty.Path) [][]any {
	if len(paths) == 0 {
		return nil
	}
	out := make([][]any, len(paths))
	for i, p := range paths {
		out[i] = encodePath(p)
	}
	return out
}

func encodePath(p cty.Path) []any {
	out := make([]any, 0, len(p))
	for _, s := range p {
		switch s := s.(type) {
		case cty.GetAttrStep:
			out = append(out, s.Name)
		case cty.IndexStep:
			switch s.Key.Type() {
			case cty.Number:
				i, _ := s.Key.AsBigFloat().Int64()
				out = append(out, i)
			default:
				// Map keys are objects so they never read as attribute names.
				out = append(out, map[string]string{"key": s.Key.AsString()})
			}
		}
	}
	return out
}

// Decode reads a document written by Encode. Redacted sensitive parts come
// back as unknown with ConfigUnknown (After) or BeforeRedacted (Before)
// set, so the executor re-derives them; sensitive variables come back as
// hashes in SensitiveVariables.
func Decode(b []byte) (*Plan, error) {
	doc, err := parseDocument(b)
	if err != nil {
		return nil, err
	}
	return decodeDocument(doc)
}

func parseDocument(b []byte) (*document, error) {
	var doc document
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("not a Drover plan document: %w", err)
	}
	if doc.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("plan document format version %d is not supported (this Drover reads version %d); plan again with this version", doc.FormatVersion, FormatVersion)
	}
	return &doc, nil
}

func decodeDocument(doc *document) (*Plan, error) {
	p := &Plan{
		Mode: doc.Mode, Lineage: doc.Lineage, Serial: doc.Serial, ConfigHash: doc.ConfigHash, Errored: doc.Errored,
		Variables: map[string]cty.Value{}, SensitiveVariables: map[string]string{},
	}
	if doc.Timestamp != "" {
		t, err := time.Parse(time.RFC3339, doc.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("plan document: invalid timestamp %q", doc.Timestamp)
		}
		p.Timestamp = t
	}
	for name, dv := range doc.Variables {
		if dv.Sensitive {
			p.SensitiveVariables[name] = dv.SHA256
			continue
		}
		v, _, err := decodeValue(dv.Value, nil)
		if err != nil {
			return nil, fmt.Errorf("variable %q: %w", name, err)
		}
		p.Variables[name] = v
	}
	for _, t := range doc.Targets {
		a, err := addrs.ParseInstance(t)
		if err != nil {
			return nil, err
		}
		p.Targets = append(p.Targets, a)
	}
	for _, m := range doc.Moved {
		from, err := addrs.ParseInstance(m.From)
		if err != nil {
			return nil, err
		}
		to, err := addrs.ParseInstance(m.To)
		if err != nil {
			return nil, err
		}
		p.Moved = append(p.Moved, addrs.Move{From: from, To: to})
	}
	for _, f := range doc.Forgotten {
		a, err := addrs.ParseInstance(f)
		if err != nil {
			return nil, err
		}
		p.Forgotten = append(p.Forgotten, a)
	}
	var err error
	if p.Changes, err = decodeChanges(doc.Changes); err != nil {
		return nil, err
	}
	if p.Drift, err = decodeChanges(doc.Drift); err != nil {
		return nil, err
	}
	for _, do := range doc.Outputs {
		a, ok := actionsByVerb[do.Action]
		if !ok {
			return nil, fmt.Errorf("output %q: unknown action %q", do.Name, do.Action)
		}
		oc := &OutputChange{Name: do.Name, Action: a, Sensitive: do.Sensitive}
		if oc.Before, _, err = decodeValue(do.Before, nil); err != nil {
			return nil, fmt.Errorf("output %q: %w", do.Name, err)
		}
		if oc.After, _, err = decodeValue(do.After, nil); err != nil {
			return nil, fmt.Errorf("output %q: %w", do.Name, err)
		}
		p.Outputs = append(p.Outputs, oc)
	}
	if p.Runbook, err = decodeRunbook(doc.Runbook); err != nil {
		return nil, err
	}
	p.Sort()
	return p, nil
}

func decodeChanges(docs []docChange) ([]*Change, error) {
	out := make([]*Change, 0, len(docs))
	for _, dc := range docs {
		addr, err := addrs.ParseInstance(dc.Address)
		if err != nil {
			return nil, err
		}
		a, ok := actionsByVerb[dc.Action]
		if !ok {
			return nil, fmt.Errorf("%s: unknown action %q", dc.Address, dc.Action)
		}
		c := &Change{Addr: addr, Provider: dc.Provider, Action: a, Reason: dc.Reason, Description: dc.Description,
			CreateBeforeDestroy: dc.CreateBeforeDestroy, ConfigUnknown: dc.ConfigUnknown}
		if c.Timeouts, err = decodeTimeouts(dc.Timeouts); err != nil {
			return nil, fmt.Errorf("%s: %w", dc.Address, err)
		}
		if c.SensitivePaths, err = decodePaths(dc.SensitivePaths); err != nil {
			return nil, fmt.Errorf("%s: %w", dc.Address, err)
		}
		if c.RequiresReplace, err = decodePaths(dc.RequiresReplace); err != nil {
			return nil, fmt.Errorf("%s: %w", dc.Address, err)
		}
		var redactedBefore, redactedAfter bool
		if c.Before, redactedBefore, err = decodeValue(dc.Before, c.SensitivePaths); err != nil {
			return nil, fmt.Errorf("%s: %w", dc.Address, err)
		}
		if c.After, redactedAfter, err = decodeValue(dc.After, c.SensitivePaths); err != nil {
			return nil, fmt.Errorf("%s: %w", dc.Address, err)
		}
		c.BeforeRedacted = redactedBefore
		c.ConfigUnknown = c.ConfigUnknown || (redactedAfter && a != Delete)
		for _, d := range dc.Dependencies {
			r, err := addrs.ParseResource(d)
			if err != nil {
				return nil, err
			}
			c.Dependencies = append(c.Dependencies, r)
		}
		if dc.MovedFrom != "" {
			from, err := addrs.ParseInstance(dc.MovedFrom)
			if err != nil {
				return nil, err
			}
			c.MovedFrom = &from
		}
		c.ImportID = dc.ImportID
		if dc.Private != "" {
			if c.Private, err = base64.StdEncoding.DecodeString(dc.Private); err != nil {
				return nil, fmt.Errorf("%s: private data: %w", dc.Address, err)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// decodeValue rebuilds a value; parts at redacted paths that are present
// in the value become unknown, and redacted reports whether any did.
func decodeValue(dv *docValue, redacted []cty.Path) (cty.Value, bool, error) {
	if dv == nil {
		return cty.NilVal, false, nil
	}
	ty, err := ctyjson.UnmarshalType(dv.Type)
	if err != nil {
		return cty.NilVal, false, err
	}
	v, err := ctyjson.Unmarshal(dv.Value, ty)
	if err != nil {
		return cty.NilVal, false, err
	}
	unknown, err := decodePaths(dv.UnknownPaths)
	if err != nil {
		return cty.NilVal, false, err
	}
	if dv.RedactedPaths != nil {
		if redacted, err = decodePaths(*dv.RedactedPaths); err != nil {
			return cty.NilVal, false, err
		}
	}
	if v.IsNull() {
		return v, false, nil
	}
	hit := false
	v, err = cty.Transform(v, func(p cty.Path, x cty.Value) (cty.Value, error) {
		for _, u := range unknown {
			if p.Equals(u) {
				return cty.UnknownVal(x.Type()), nil
			}
		}
		for _, r := range redacted {
			if p.Equals(r) && len(p) > 0 {
				hit = true
				return cty.UnknownVal(x.Type()), nil
			}
		}
		return x, nil
	})
	return v, hit, err
}

func decodePaths(in [][]any) ([]cty.Path, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]cty.Path, len(in))
	for i, steps := range in {
		var p cty.Path
		for _, s := range steps {
			switch s := s.(type) {
			case string:
				p = p.GetAttr(s)
			case float64:
				p = p.Index(cty.NumberIntVal(int64(s)))
			case map[string]any:
				k, ok := s["key"].(string)
				if !ok {
					return nil, fmt.Errorf("bad path step %v", s)
				}
				p = p.Index(cty.StringVal(k))
			default:
				return nil, fmt.Errorf("bad path step %v", s)
			}
		}
		out[i] = p
	}
	return out, nil
}
