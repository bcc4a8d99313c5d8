package lang

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/internal/suggest"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// constValue evaluates an argument that must be a constant (no references,
// no function calls) of type ty.
func constValue(attr *hcl.Attribute, ty cty.Type) (cty.Value, hcl.Diagnostics) {
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return cty.NullVal(ty), diags
	}
	conv, err := convert.Convert(v, ty)
	if err != nil {
		return cty.NullVal(ty), append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for " + attr.Name,
			Detail:   fmt.Sprintf("The %s argument must be a %s: %s.", attr.Name, ty.FriendlyName(), err),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	return conv, diags
}

func constString(attr *hcl.Attribute) (string, hcl.Diagnostics) {
	v, diags := constValue(attr, cty.String)
	if v.IsNull() {
		return "", diags
	}
	return v.AsString(), diags
}

func constBool(attr *hcl.Attribute) (bool, hcl.Diagnostics) {
	v, diags := constValue(attr, cty.Bool)
	return !v.IsNull() && v.True(), diags
}

// setString and setBool decode an optional constant argument into dst.
func setString(attrs hcl.Attributes, name string, dst *string, diags *hcl.Diagnostics) {
	if a := attrs[name]; a != nil {
		v, d := constString(a)
		*diags = append(*diags, d...)
		*dst = v
	}
}

func setBool(attrs hcl.Attributes, name string, dst *bool, diags *hcl.Diagnostics) {
	if a := attrs[name]; a != nil {
		v, d := constBool(a)
		*diags = append(*diags, d...)
		*dst = v
	}
}

// setDuration decodes an optional constant duration ("90s", "2h30m") into
// dst; it must be positive.
func setDuration(attrs hcl.Attributes, name string, dst *time.Duration, diags *hcl.Diagnostics) {
	a := attrs[name]
	if a == nil {
		return
	}
	s, d := constString(a)
	*diags = append(*diags, d...)
	if d.HasErrors() {
		return
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		*diags = append(*diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid duration",
			Detail:   fmt.Sprintf("%s must be a positive duration like \"90s\", \"15m\" or \"2h30m\"; %q is not.", name, s),
			Subject:  a.Expr.Range().Ptr(),
		})
		return
	}
	*dst = v
}

func attrSchema(names ...string) []hcl.AttributeSchema {
	out := make([]hcl.AttributeSchema, len(names))
	for i, n := range names {
		out[i] = hcl.AttributeSchema{Name: n}
	}
	return out
}

var (
	droverSchema = &hcl.BodySchema{
		Attributes: attrSchema("required_version"),
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "backend", LabelNames: []string{"type"}},
			{Type: "required_providers"},
		},
	}
	providerRequirementKeys = []string{"source", "version"}
)

func (cfg *Config) decodeDrover(block *hcl.Block) hcl.Diagnostics {
	if cfg.Drover == nil {
		cfg.Drover = &Drover{RequiredProviders: map[string]*ProviderRequirement{}, DeclRange: block.DefRange}
	}
	d := cfg.Drover
	content, diags := bodyContent(block.Body, droverSchema)
	if a := content.Attributes["required_version"]; a != nil {
		if d.RequiredVersion != "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate required_version",
				Detail:   "required_version is already set in another drover block; keep one.",
				Subject:  a.NameRange.Ptr(),
			})
		} else {
			setString(content.Attributes, "required_version", &d.RequiredVersion, &diags)
		}
	}
	for _, b := range content.Blocks {
		switch b.Type {
		case "backend":
			if d.Backend != nil {
				diags = append(diags, duplicate("backend", b.Labels[0], d.Backend.DeclRange, b.DefRange))
				continue
			}
			d.Backend = &Backend{Type: b.Labels[0], Config: b.Body, DeclRange: b.DefRange}
		case "required_providers":
			diags = append(diags, d.decodeRequiredProviders(b)...)
		}
	}
	return diags
}

func (d *Drover) decodeRequiredProviders(block *hcl.Block) hcl.Diagnostics {
	attrs, diags := block.Body.JustAttributes()
	for _, a := range sortedAttrs(attrs) {
		if prev, ok := d.RequiredProviders[a.Name]; ok {
			diags = append(diags, duplicate("provider requirement", a.Name, prev.DeclRange, a.Range))
			continue
		}
		req := &ProviderRequirement{Name: a.Name, DeclRange: a.Range}
		v, vd := a.Expr.Value(nil)
		diags = append(diags, vd...)
		if vd.HasErrors() {
			continue
		}
		if v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid provider requirement",
				Detail:   fmt.Sprintf(`A provider requirement is an object: %s = { source = "...", version = "..." }.`, a.Name),
				Subject:  a.Expr.Range().Ptr(),
			})
			continue
		}
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			key := k.AsString()
			if !slices.Contains(providerRequirementKeys, key) {
				detail := fmt.Sprintf("A provider requirement has no %q.", key)
				if s := suggest.Nearest(key, providerRequirementKeys); s != "" {
					detail += fmt.Sprintf(" Did you mean %q?", s)
				} else {
					detail += " Expected source and version."
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid provider requirement", Detail: detail, Subject: a.Expr.Range().Ptr()})
				continue
			}
			s, err := convert.Convert(ev, cty.String)
			if err != nil || s.IsNull() {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid provider requirement",
					Detail:   fmt.Sprintf("The %s of provider %q must be a string.", key, a.Name),
					Subject:  a.Expr.Range().Ptr(),
				})
				continue
			}
			if key == "source" {
				req.Source = s.AsString()
			} else {
				req.Version = s.AsString()
			}
		}
		d.RequiredProviders[a.Name] = req
	}
	return diags
}

// sortedAttrs orders attributes by source position, so that diagnostics and
// the choice of "first" declaration do not depend on map order.
func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := out[i].Range, out[j].Range
		if ri.Filename != rj.Filename {
			return ri.Filename < rj.Filename
		}
		return ri.Start.Byte < rj.Start.Byte
	})
	return out
}

var hostSchema = &hcl.BodySchema{Attributes: attrSchema("address", "root", "transport", "user", "port", "identity_file", "host_key", "known_hosts", "netns", "agent")}

func (cfg *Config) decodeHost(block *hcl.Block) hcl.Diagnostics {
	name := block.Labels[0]
	_, diags := bodyContent(block.Body, hostSchema)
	diags = append(diags, checkInstanceRefs(nativeTraversals(block.Body, nil), false, false)...)
	if prev, ok := cfg.Hosts[name]; ok {
		return append(diags, duplicate("host", name, prev.DeclRange, block.DefRange))
	}
	cfg.Hosts[name] = &Host{Name: name, Config: block.Body, DeclRange: block.DefRange}
	return diags
}

func (cfg *Config) decodeProvider(block *hcl.Block) hcl.Diagnostics {
	name := block.Labels[0]
	diags := checkInstanceRefs(nativeTraversals(block.Body, nil), false, false)
	if prev, ok := cfg.Providers[name]; ok {
		return append(diags, duplicate("provider configuration", name, prev.DeclRange, block.DefRange))
	}
	cfg.Providers[name] = &ProviderConfig{Name: name, Config: block.Body, DeclRange: block.DefRange}
	return diags
}

var (
	variableSchema = &hcl.BodySchema{
		Attributes: attrSchema("type", "default", "description", "sensitive", "nullable"),
		Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
	}
	validationSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "condition", Required: true},
			{Name: "error_message", Required: true},
		},
	}
)

func (cfg *Config) decodeVariable(block *hcl.Block) hcl.Diagnostics {
	name := block.Labels[0]
	v := &Variable{Name: name, Type: cty.DynamicPseudoType, Nullable: true, DeclRange: block.DefRange}
	content, diags := bodyContent(block.Body, variableSchema)
	attrs := content.Attributes
	if a := attrs["type"]; a != nil {
		ty, defaults, d := typeexpr.TypeConstraintWithDefaults(a.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.Type, v.typeDefaults = ty, defaults
		}
	}
	setString(attrs, "description", &v.Description, &diags)
	setBool(attrs, "sensitive", &v.Sensitive, &diags)
	if a := attrs["nullable"]; a != nil {
		val, d := constValue(a, cty.Bool)
		diags = append(diags, d...)
		if !val.IsNull() {
			v.Nullable = val.True()
		}
	}
	if a := attrs["default"]; a != nil {
		val, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if v.typeDefaults != nil && !val.IsNull() {
				val = v.typeDefaults.Apply(val)
			}
			conv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   fmt.Sprintf("The default value does not match the variable's type %s: %s.", typeexpr.TypeString(v.Type), err),
					Subject:  a.Expr.Range().Ptr(),
				})
				conv = cty.NullVal(v.Type)
			}
			v.Default = conv
			if !v.Nullable && conv.IsNull() {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   "A null default is not allowed when nullable = false. Give a value, or remove the default to make the variable required.",
					Subject:  a.Expr.Range().Ptr(),
				})
			}
		}
	}
	for _, b := range content.Blocks {
		val, d := decodeValidation(name, b)
		diags = append(diags, d...)
		if val != nil {
			v.Validations = append(v.Validations, val)
		}
	}
	if prev, ok := cfg.Variables[name]; ok {
		return append(diags, duplicate("variable", name, prev.DeclRange, v.DeclRange))
	}
	cfg.Variables[name] = v
	return diags
}

// decodeValidation reads a validation block of variable name. Its
// expressions may refer only to that variable: validation runs before
// anything else is known.
func decodeValidation(name string, block *hcl.Block) (*Validation, hcl.Diagnostics) {
	content, diags := bodyContent(block.Body, validationSchema)
	cond, msg := content.Attributes["condition"], content.Attributes["error_message"]
	if cond == nil || msg == nil {
		return nil, diags
	}
	selfRef := false
	for _, a := range []*hcl.Attribute{cond, msg} {
		refs, d := ExprRefs(a.Expr)
		diags = append(diags, d...)
		for _, ref := range refs {
			if ref.Kind == RefVar && ref.Name == name {
				selfRef = selfRef || a == cond
				continue
			}
			rng := ref.Range
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid reference in variable validation",
				Detail:   fmt.Sprintf("The validation of variable %q may refer only to var.%s: it is checked before any other value is known.", name, name),
				Subject:  &rng,
			})
		}
	}
	if !selfRef {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid variable validation condition",
			Detail:   fmt.Sprintf("The condition must refer to var.%s to test the value given.", name),
			Subject:  cond.Expr.Range().Ptr(),
		})
	}
	return &Validation{Condition: cond.Expr, ErrorMessage: msg.Expr, DeclRange: block.DefRange}, diags
}

func (cfg *Config) decodeLocals(block *hcl.Block) hcl.Diagnostics {
	attrs, diags := block.Body.JustAttributes()
	for _, a := range sortedAttrs(attrs) {
		if !hclsyntax.ValidIdentifier(a.Name) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid local value name",
				Detail:   fmt.Sprintf("%q cannot be used in references: a name starts with a letter or underscore and holds only letters, digits, underscores and dashes.", a.Name),
				Subject:  a.NameRange.Ptr(),
			})
			continue
		}
		diags = append(diags, checkInstanceRefs(a.Expr.Variables(), false, false)...)
		if prev, ok := cfg.Locals[a.Name]; ok {
			diags = append(diags, duplicate("local value", a.Name, prev.DeclRange, a.Range))
			continue
		}
		cfg.Locals[a.Name] = &Local{Name: a.Name, Expr: a.Expr, DeclRange: a.Range}
	}
	return diags
}

var outputSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "value", Required: true},
		{Name: "description"},
		{Name: "sensitive"},
		{Name: "depends_on"},
	},
}

func (cfg *Config) decodeOutput(block *hcl.Block) hcl.Diagnostics {
	name := block.Labels[0]
	o := &Output{Name: name, DeclRange: block.DefRange}
	content, diags := bodyContent(block.Body, outputSchema)
	attrs := content.Attributes
	if a := attrs["value"]; a != nil {
		o.Expr = a.Expr
		diags = append(diags, checkInstanceRefs(a.Expr.Variables(), false, false)...)
	} else {
		o.Expr = hcl.StaticExpr(cty.NullVal(cty.DynamicPseudoType), block.DefRange)
	}
	setString(attrs, "description", &o.Description, &diags)
	setBool(attrs, "sensitive", &o.Sensitive, &diags)
	if a := attrs["depends_on"]; a != nil {
		var d hcl.Diagnostics
		o.DependsOn, d = decodeDependsOn(a)
		diags = append(diags, d...)
	}
	if prev, ok := cfg.Outputs[name]; ok {
		return append(diags, duplicate("output", name, prev.DeclRange, o.DeclRange))
	}
	cfg.Outputs[name] = o
	return diags
}

// decodeDependsOn reads a list of whole-resource references (depends_on,
// replace_triggered_by).
func decodeDependsOn(attr *hcl.Attribute) ([]hcl.Traversal, hcl.Diagnostics) {
	exprs, diags := hcl.ExprList(attr.Expr)
	var out []hcl.Traversal
	for _, e := range exprs {
		trav, d := hcl.AbsTraversalForExpr(e)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		ref, rd := parseRef(trav)
		if rd != nil {
			diags = append(diags, rd)
			continue
		}
		if ref.Kind != RefResource || ref.Key != nil || len(ref.Remaining) > 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid " + attr.Name + " reference",
				Detail:   attr.Name + " names whole resources, like value.x or data.value.y, without attributes or instance keys.",
				Subject:  trav.SourceRange().Ptr(),
			})
			continue
		}
		out = append(out, trav)
	}
	return out, diags
}

var (
	resourceMetaSchema = &hcl.BodySchema{
		Attributes: attrSchema("count", "for_each", "depends_on", "provider"),
		Blocks:     []hcl.BlockHeaderSchema{{Type: "lifecycle"}, {Type: "timeouts"}},
	}
	lifecycleSchema = &hcl.BodySchema{
		Attributes: attrSchema("prevent_destroy", "create_before_destroy", "ignore_changes", "replace_triggered_by"),
	}
	timeoutsSchema    = &hcl.BodySchema{Attributes: attrSchema("read", "create", "update", "delete")}
	resourceMetaNames = []string{"count", "for_each", "depends_on", "provider", "lifecycle", "timeouts"}
)

// decodeResource reads a resource or data block (also one nested in a
// runbook step): the meta-arguments are taken out, the rest stays in
// Config for the planner to decode with the provider's schema.
func decodeResource(block *hcl.Block) (*Resource, hcl.Diagnostics) {
	mode := addrs.Managed
	if block.Type == "data" {
		mode = addrs.Data
	}
	r := &Resource{
		Addr:      addrs.Resource{Mode: mode, Type: block.Labels[0], Name: block.Labels[1]},
		DeclRange: block.DefRange,
		TypeRange: block.LabelRanges[0],
	}
	content, remain, diags := block.Body.PartialContent(resourceMetaSchema)
	r.Config = remain
	attrs := content.Attributes
	var repDiags hcl.Diagnostics
	r.Count, r.ForEach, repDiags = decodeRepetition(attrs, "resource")
	diags = append(diags, repDiags...)
	if a := attrs["depends_on"]; a != nil {
		var d hcl.Diagnostics
		r.DependsOn, d = decodeDependsOn(a)
		diags = append(diags, d...)
	}
	if a := attrs["provider"]; a != nil {
		r.Provider = hcl.ExprAsKeyword(a.Expr)
		if r.Provider == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid provider argument",
				Detail:   "provider names a provider without quotes, like provider = disk.",
				Subject:  a.Expr.Range().Ptr(),
			})
		}
	}
	var lifecycle, timeouts *hcl.Block
	for _, b := range content.Blocks {
		switch {
		case b.Type == "timeouts":
			if timeouts != nil {
				diags = append(diags, duplicateSingleton("timeouts", timeouts.DefRange, b.DefRange))
				continue
			}
			timeouts = b
			diags = append(diags, decodeTimeouts(b, mode, &r.Timeouts)...)
		case mode == addrs.Data:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported lifecycle block",
				Detail:   "Data sources are only read, never created or destroyed, so lifecycle settings do not apply to them.",
				Subject:  b.DefRange.Ptr(),
			})
		case lifecycle != nil:
			diags = append(diags, duplicateSingleton("lifecycle", lifecycle.DefRange, b.DefRange))
		default:
			lifecycle = b
			diags = append(diags, decodeLifecycle(b, &r.Lifecycle)...)
		}
	}
	diags = append(diags, checkInstanceRefs(nativeTraversals(block.Body, resourceMetaNames), r.Count != nil, r.ForEach != nil)...)
	return r, diags
}

func decodeTimeouts(block *hcl.Block, mode addrs.Mode, t *Timeouts) hcl.Diagnostics {
	content, diags := bodyContent(block.Body, timeoutsSchema)
	setDuration(content.Attributes, "read", &t.Read, &diags)
	if mode == addrs.Data {
		for _, name := range []string{"create", "update", "delete"} {
			if a := content.Attributes[name]; a != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Unsupported timeout",
					Detail:   fmt.Sprintf("A data source is only read: its timeouts block takes read, not %s.", name),
					Subject:  a.NameRange.Ptr(),
				})
			}
		}
		return diags
	}
	setDuration(content.Attributes, "create", &t.Create, &diags)
	setDuration(content.Attributes, "update", &t.Update, &diags)
	setDuration(content.Attributes, "delete", &t.Delete, &diags)
	return diags
}

func decodeLifecycle(block *hcl.Block, lc *Lifecycle) hcl.Diagnostics {
	content, diags := bodyContent(block.Body, lifecycleSchema)
	setBool(content.Attributes, "prevent_destroy", &lc.PreventDestroy, &diags)
	setBool(content.Attributes, "create_before_destroy", &lc.CreateBeforeDestroy, &diags)
	if a := content.Attributes["replace_triggered_by"]; a != nil {
		var d hcl.Diagnostics
		lc.ReplaceTriggeredBy, d = decodeDependsOn(a)
		diags = append(diags, d...)
	}
	a := content.Attributes["ignore_changes"]
	if a == nil {
		return diags
	}
	if hcl.ExprAsKeyword(a.Expr) == "all" {
		lc.IgnoreAllChanges = true
		return diags
	}
	exprs, d := hcl.ExprList(a.Expr)
	diags = append(diags, d...)
	for _, e := range exprs {
		if hcl.ExprAsKeyword(e) == "all" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid ignore_changes entry",
				Detail:   "all stands alone, without brackets: ignore_changes = all.",
				Subject:  e.Range().Ptr(),
			})
			continue
		}
		trav, d := hcl.AbsTraversalForExpr(e)
		if d.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid ignore_changes entry",
				Detail:   "Each entry names an attribute of this resource, like tags or source.path, or use ignore_changes = all.",
				Subject:  e.Range().Ptr(),
			})
			continue
		}
		lc.IgnoreChanges = append(lc.IgnoreChanges, trav)
	}
	return diags
}

// checkMetaRefs rejects count/each references inside count or for_each:
// they decide which instances exist, so no instance's key is known yet.
func checkMetaRefs(arg string, expr hcl.Expression) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, t := range expr.Variables() {
		if root := t.RootName(); root == "count" || root == "each" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid " + arg + " argument",
				Detail:   fmt.Sprintf("The %s argument cannot refer to %s: it decides which instances exist, so no instance's key is known yet.", arg, root),
				Subject:  t.SourceRange().Ptr(),
			})
		}
	}
	return diags
}

// checkInstanceRefs rejects count.* outside a counted resource or step and each.*
// outside a for_each resource or step.
func checkInstanceRefs(travs []hcl.Traversal, hasCount, hasForEach bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, t := range travs {
		switch t.RootName() {
		case "count":
			if !hasCount {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  `Reference to "count" in non-counted context`,
					Detail:   `count.index is available only inside a resource, data or step block that sets the count argument.`,
					Subject:  t.SourceRange().Ptr(),
				})
			}
		case "each":
			if !hasForEach {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  `Reference to "each" in context without for_each`,
					Detail:   `each.key and each.value are available only inside a resource, data or step block that sets the for_each argument.`,
					Subject:  t.SourceRange().Ptr(),
				})
			}
		}
	}
	return diags
}

// nativeTraversals lists every traversal in a native-syntax body, nested
// blocks included, skipping top-level arguments and blocks named in skip.
// It returns nil for JSON bodies, whose expressions cannot be told from
// plain strings without a schema.
func nativeTraversals(body hcl.Body, skip []string) []hcl.Traversal {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	var out []hcl.Traversal
	for _, a := range sortedSyntaxAttrs(sb.Attributes) {
		if !slices.Contains(skip, a.Name) {
			out = append(out, a.Expr.Variables()...)
		}
	}
	for _, b := range sb.Blocks {
		if !slices.Contains(skip, b.Type) {
			out = append(out, nativeTraversals(b.Body, nil)...)
		}
	}
	return out
}

func sortedSyntaxAttrs(attrs hclsyntax.Attributes) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SrcRange.Start.Byte < out[j].SrcRange.Start.Byte })
	return out
}
