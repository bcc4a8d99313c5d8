package disk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/disk/bootini"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// entryAttrs name a boot menu and an entry in it; shared by the resource
// and the actions.
func entryAttrs() map[string]*schema.Attribute {
	return map[string]*schema.Attribute{
		"host": {Type: host.Type, Required: true,
			Description: "The host whose boot menu it is, e.g. host.fs2."},
		"loader": {Type: cty.String, Required: true,
			Description: "bootini, grub, bcd or efi."},
		"file": {Type: cty.String, Optional: true,
			Description: "Where the loader's menu lives on the host: /boot.ini, /boot/grub/grubenv, /Boot/BCD, or the efivarfs folder /sys/firmware/efi/efivars (the defaults)."},
		"label": {Type: cty.String, Optional: true,
			Description: "The entry's label: BOOT.INI's quoted text, GRUB's menu entry title or id, a BCD description, an EFI boot option's description."},
		"path": {Type: cty.String, Optional: true,
			Description: "The entry's target: BOOT.INI's ARC path, a BCD object GUID, an EFI option (Boot0003)."},
	}
}

func bootEntrySchema() *schema.Resource {
	attrs := entryAttrs()
	attrs["host"].ForceNew = true
	attrs["loader"].ForceNew = true
	attrs["file"].ForceNew = true
	attrs["path"].ForceNew = true
	attrs["options"] = &schema.Attribute{Type: cty.String, Optional: true,
		Description: "BOOT.INI switches, e.g. \"/fastdetect /noexecute=optin\"."}
	attrs["default"] = &schema.Attribute{Type: cty.Bool, Optional: true,
		Description: "true makes the entry the default; plan shows when it no longer is."}
	attrs["timeout"] = &schema.Attribute{Type: cty.Number, Optional: true,
		Description: "Seconds the menu waits (BOOT.INI and BCD)."}
	attrs["once"] = &schema.Attribute{Type: cty.Bool, Optional: true,
		Description: "true boots the entry at the next boot only (GRUB next_entry, BCD boot sequence, EFI BootNext); it is set on apply and not read back, as the boot consumes it."}
	attrs["entry"] = &schema.Attribute{Type: cty.String, Computed: true,
		Description: "The entry's ID in the loader: the ARC path, GRUB entry, BCD GUID or BootXXXX."}
	attrs["id"] = &schema.Attribute{Type: cty.String, Computed: true, Description: "HOST:LOADER:ENTRY."}
	// What destroy undoes, recorded when apply changed it: a destroy
	// removes only what the resource added and gives back what it
	// replaced.
	attrs["added"] = &schema.Attribute{Type: cty.Bool, Computed: true,
		Description: "true when Drover added the entry's line (BOOT.INI); destroy removes only such a line."}
	attrs["replaced_entry"] = &schema.Attribute{Type: cty.String, Computed: true,
		Description: "A BOOT.INI entry's label and switches as they were before Drover rewrote them; destroy writes them back."}
	attrs["replaced_default"] = &schema.Attribute{Type: cty.String, Computed: true,
		Description: "The default entry this one replaced when apply last made it the default (\"\": there was none); destroy restores it while this entry is still the default."}
	attrs["replaced_timeout"] = &schema.Attribute{Type: cty.Number, Computed: true,
		Description: "The menu's timeout before apply first changed it; destroy restores it while the menu still has the resource's timeout."}
	return &schema.Resource{
		Description: "An entry of a host's boot menu (BOOT.INI, GRUB, BCD or EFI), optionally the default or the next boot.",
		Block:       &schema.Block{Attributes: attrs},
	}
}

func bootEntryResource() *sdk.Resource {
	return &sdk.Resource{
		Schema:        bootEntrySchema(),
		Validate:      validateBootEntry,
		CustomizePlan: planBootEntry,
		Read:          readBootEntry,
		Create:        applyBootEntry,
		Update:        applyBootEntry,
		Delete:        deleteBootEntry,
	}
}

func str(v cty.Value, name string) string {
	if !v.Type().HasAttribute(name) {
		return ""
	}
	a := v.GetAttr(name)
	if a.IsNull() || !a.IsKnown() {
		return ""
	}
	return a.AsString()
}

func intAttr(v cty.Value, name string) int64 {
	n, _ := v.GetAttr(name).AsBigFloat().Int64()
	return n
}

// kept is the prior record of name, null on a create: what an update that
// did not switch or change anything keeps.
func kept(prior cty.Value, name string, ty cty.Type) cty.Value {
	if prior.IsNull() {
		return cty.NullVal(ty)
	}
	return prior.GetAttr(name)
}

func isTrue(v cty.Value, name string) bool {
	a := v.GetAttr(name)
	return a.IsKnown() && !a.IsNull() && a.True()
}

func errDiag(path, summary string, err error) providers.Diagnostics {
	if path == "" {
		return providers.Diagnostics{providers.Errorf(summary, "%s.", err)}
	}
	return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath(path), summary, "%s.", err)}
}

// validateEntry checks what names a menu and an entry in it.
func validateEntry(v cty.Value) providers.Diagnostics {
	var diags providers.Diagnostics
	if h := v.GetAttr("host"); h.IsWhollyKnown() {
		if _, err := host.ConfigFromValue(h); err != nil {
			diags = append(diags, errDiag("host", "Invalid host", err)...)
		}
	}
	l := v.GetAttr("loader")
	if !l.IsKnown() || l.IsNull() {
		return diags
	}
	loader := l.AsString()
	if _, ok := defaultFiles[loader]; !ok {
		return append(diags, errDiag("loader", "Invalid loader", fmt.Errorf("loader %q is not one of bootini, grub, bcd, efi", loader))...)
	}
	if f := v.GetAttr("file"); f.IsKnown() && !f.IsNull() && !strings.HasPrefix(f.AsString(), "/") {
		diags = append(diags, errDiag("file", "Invalid file", fmt.Errorf("file %q must be an absolute path on the host", f.AsString()))...)
	}
	path, label := v.GetAttr("path"), v.GetAttr("label")
	if !path.IsKnown() || !label.IsKnown() {
		return diags
	}
	switch {
	case loader == "bootini" && path.IsNull():
		diags = append(diags, errDiag("path", "Missing path", fmt.Errorf("a BOOT.INI entry is named by its ARC path, like path = \"multi(0)disk(0)rdisk(0)partition(2)\\\\WINNT\""))...)
	case loader == "grub" && label.IsNull():
		diags = append(diags, errDiag("label", "Missing label", fmt.Errorf("a GRUB entry is named by its menu entry title or id: set label"))...)
	case path.IsNull() && label.IsNull():
		diags = append(diags, errDiag("label", "Missing entry", fmt.Errorf("name the entry with label (its description) or path (%s)", map[string]string{"bcd": "its GUID", "efi": "Boot0003"}[loader]))...)
	}
	return diags
}

func validateBootEntry(ctx context.Context, config cty.Value) providers.Diagnostics {
	diags := validateEntry(config)
	l := config.GetAttr("loader")
	if !l.IsKnown() || l.IsNull() {
		return diags
	}
	loader := l.AsString()
	if loader == "bootini" && isTrue(config, "once") {
		diags = append(diags, errDiag("once", "One-time boot not supported", fmt.Errorf("BOOT.INI has no one-time boot; use default"))...)
	}
	if t := config.GetAttr("timeout"); t.IsKnown() && !t.IsNull() && (loader == "grub" || loader == "efi") {
		diags = append(diags, errDiag("timeout", "Timeout not supported", fmt.Errorf("the %s loader keeps no timeout Drover can set (GRUB's is in grub.cfg)", loader))...)
	}
	if t := config.GetAttr("timeout"); t.IsKnown() && !t.IsNull() {
		if n, acc := t.AsBigFloat().Int64(); acc != big.Exact || n < 0 || n > 999 {
			diags = append(diags, errDiag("timeout", "Invalid timeout", fmt.Errorf("timeout must be whole seconds from 0 to 999"))...)
		}
	}
	if o := config.GetAttr("options"); o.IsKnown() && !o.IsNull() && loader != "bootini" {
		diags = append(diags, errDiag("options", "Options not supported", fmt.Errorf("options are BOOT.INI switches; the %s loader's entries are not edited by Drover", loader))...)
	}
	return diags
}

func entryID(v cty.Value, entry cty.Value) cty.Value {
	h := v.GetAttr("host")
	if !h.IsWhollyKnown() || h.IsNull() || !entry.IsKnown() || !v.GetAttr("loader").IsKnown() {
		return cty.UnknownVal(cty.String)
	}
	return cty.StringVal(h.GetAttr("name").AsString() + ":" + str(v, "loader") + ":" + entry.AsString())
}

// plannedEntry is the entry's ID when the configuration tells it without
// reading the host.
func plannedEntry(v cty.Value) cty.Value {
	switch str(v, "loader") {
	case "bootini":
		if p := v.GetAttr("path"); p.IsKnown() {
			return p
		}
	case "grub":
		if l := v.GetAttr("label"); l.IsKnown() {
			return l
		}
	}
	return cty.UnknownVal(cty.String)
}

func planBootEntry(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
	entry := p.Planned.GetAttr("entry")
	if p.Prior.IsNull() || !entry.IsKnown() || entry.IsNull() {
		entry = plannedEntry(p.Config)
	}
	attrs := map[string]cty.Value{"entry": entry, "id": entryID(p.Config, entry)}
	if !p.Prior.IsNull() {
		// The records stay as they are (null included), except that an
		// update records what it replaces when it switches the default,
		// or changes the timeout for the first time.
		for _, name := range []string{"added", "replaced_entry", "replaced_default", "replaced_timeout"} {
			attrs[name] = p.Prior.GetAttr(name)
		}
		if d := p.Config.GetAttr("default"); !d.IsKnown() || isTrue(p.Config, "default") && !isTrue(p.Prior, "default") {
			attrs["replaced_default"] = cty.UnknownVal(cty.String)
		}
		if t := p.Config.GetAttr("timeout"); p.Prior.GetAttr("replaced_timeout").IsNull() && !t.IsNull() && !t.RawEquals(p.Prior.GetAttr("timeout")) {
			attrs["replaced_timeout"] = cty.UnknownVal(cty.Number)
		}
	}
	p.Planned = sdk.SetAttrs(p.Planned, attrs)
	if p.Prior.IsNull() {
		p.Description = describeBootEntry(p.Config, entry)
	}
	return nil
}

func describeBootEntry(v, entry cty.Value) string {
	what := "adds"
	if str(v, "loader") != "bootini" {
		what = "uses"
	}
	name := str(v, "label")
	if name == "" {
		name = str(v, "path")
	}
	var also []string
	if isTrue(v, "default") {
		also = append(also, "as the default")
	}
	if isTrue(v, "once") {
		also = append(also, "for the next boot")
	}
	return strings.TrimSpace(fmt.Sprintf("%s the %s entry %q %s", what, str(v, "loader"), name, strings.Join(also, " and ")))
}

func openEntryHost(v cty.Value) (host.Host, providers.Diagnostics) {
	h, err := host.FromValue(v.GetAttr("host"))
	if err != nil {
		return nil, errDiag("host", "Invalid host", err)
	}
	return h, nil
}

// readBootEntry refreshes from the host: gone when the entry is; default
// and timeout as the menu has them, when the configuration manages them.
func readBootEntry(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
	h, diags := openEntryHost(state)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	s, err := openBootStore(ctx, h, str(state, "loader"), str(state, "file"))
	if err != nil {
		return cty.NilVal, errDiag("file", "Cannot read the boot menu", err)
	}
	defer s.close()
	id, err := s.resolve(str(state, "path"), str(state, "label"))
	if err != nil {
		return cty.NullVal(state.Type()), nil
	}
	name := cty.StringVal(entryName(state, id))
	attrs := map[string]cty.Value{"entry": name, "id": entryID(state, name)}
	if !state.GetAttr("default").IsNull() {
		cur, err := s.current()
		if err != nil {
			return cty.NilVal, errDiag("", "Cannot read the boot menu", err)
		}
		attrs["default"] = cty.BoolVal(strings.EqualFold(cur, id))
	}
	if !state.GetAttr("timeout").IsNull() {
		if n, ok := s.timeout(); ok {
			attrs["timeout"] = cty.NumberIntVal(int64(n))
		}
	}
	if s.ini != nil {
		e, _ := s.ini.Entry(id)
		if !state.GetAttr("label").IsNull() {
			attrs["label"] = cty.StringVal(e.Label)
		}
		if !state.GetAttr("options").IsNull() {
			attrs["options"] = cty.StringVal(e.Options)
		}
	}
	return sdk.SetAttrs(state, attrs), nil
}

func applyBootEntry(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	v := req.Planned
	h, diags := openEntryHost(v)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	s, err := openBootStore(ctx, h, str(v, "loader"), str(v, "file"))
	if err != nil {
		return cty.NilVal, errDiag("file", "Cannot read the boot menu", err)
	}
	defer s.close()
	// record holds what destroy will undo; apply fills in what the plan
	// left unknown and keeps what it promised.
	record := map[string]cty.Value{}
	unknown := func(name string) bool { return !v.GetAttr(name).IsKnown() }
	if unknown("added") {
		record["added"] = cty.False
	}
	if unknown("replaced_entry") {
		record["replaced_entry"] = cty.NullVal(cty.String)
	}
	if s.ini != nil {
		path := str(v, "path")
		e, found := s.ini.Entry(path)
		switch {
		case !found && unknown("added"):
			record["added"] = cty.True
		case found && unknown("replaced_entry") && e.Value != bootini.EntryValue(str(v, "label"), str(v, "options")):
			record["replaced_entry"] = cty.StringVal(e.Value)
		}
		if err := s.ini.SetEntry(path, str(v, "label"), str(v, "options")); err != nil {
			return cty.NilVal, errDiag("path", "Cannot write the entry", err)
		}
	}
	id, err := s.resolve(str(v, "path"), str(v, "label"))
	if err != nil {
		return cty.NilVal, errDiag("label", "No such boot entry", err)
	}
	if unknown("replaced_default") {
		record["replaced_default"] = kept(req.Prior, "replaced_default", cty.String)
	}
	if isTrue(v, "default") {
		cur, err := s.current()
		if err != nil {
			return cty.NilVal, errDiag("default", "Cannot read the boot menu", err)
		}
		if !strings.EqualFold(cur, id) {
			if unknown("replaced_default") {
				record["replaced_default"] = cty.StringVal(cur)
			}
			if err := s.setDefault(id); err != nil {
				return cty.NilVal, errDiag("default", "Cannot switch the default", err)
			}
		}
	}
	if unknown("replaced_timeout") {
		record["replaced_timeout"] = kept(req.Prior, "replaced_timeout", cty.Number)
	}
	if !v.GetAttr("timeout").IsNull() {
		n := intAttr(v, "timeout")
		if cur, ok := s.timeout(); ok && int64(cur) != n && unknown("replaced_timeout") {
			record["replaced_timeout"] = cty.NumberIntVal(int64(cur))
		}
		if err := s.setTimeout(int(n)); err != nil {
			return cty.NilVal, errDiag("timeout", "Cannot set the timeout", err)
		}
	}
	if isTrue(v, "once") {
		if err := s.setNext(id); err != nil {
			return cty.NilVal, errDiag("once", "Cannot set the next boot", err)
		}
	}
	if err := s.save(ctx); err != nil {
		return cty.NilVal, errDiag("file", "Cannot write the boot menu", err)
	}
	name := cty.StringVal(entryName(v, id))
	record["entry"], record["id"] = name, entryID(v, name)
	return sdk.SetAttrs(v, record), nil
}

// entryName is the entry as the resource reports it, given its ID in the
// menu. A BOOT.INI path names one entry whatever its case, as Windows
// reads it: the resource keeps the configuration's spelling, which the
// plan promised, while the file keeps its own.
func entryName(v cty.Value, id string) string {
	if str(v, "loader") == "bootini" && strings.EqualFold(id, str(v, "path")) {
		return str(v, "path")
	}
	return id
}

// deleteBootEntry undoes what apply recorded: it removes a BOOT.INI line
// only when Drover added it, writes back an entry Drover rewrote, gives
// back the default the entry replaced while it is still the default, and
// the timeout. Entries of the other loaders are made by their own tools
// and stay. What the menu no longer has cannot be given back: that is
// said in a warning, and a default that would name nothing names the
// first entry left.
func deleteBootEntry(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
	v := req.Prior
	h, diags := openEntryHost(v)
	if diags.HasErrors() {
		return diags
	}
	defer h.Close()
	s, err := openBootStore(ctx, h, str(v, "loader"), str(v, "file"))
	if errors.Is(err, fs.ErrNotExist) {
		// No menu, nothing to give back.
		return nil
	}
	if err != nil {
		return errDiag("file", "Cannot read the boot menu", err)
	}
	defer s.close()
	id, err := s.resolve(str(v, "path"), str(v, "label"))
	if err != nil {
		// Gone already (a destroy retried, or removed by hand).
		return nil
	}
	cur, err := s.current()
	if err != nil {
		return errDiag("", "Cannot read the boot menu", err)
	}
	prev := v.GetAttr("replaced_default")
	isDefault := strings.EqualFold(cur, id)
	if isDefault && !prev.IsNull() {
		restored, err := s.restoreDefault(prev.AsString(), id)
		if err != nil {
			return errDiag("", "Cannot give back the default", err)
		}
		isDefault = !restored
		if !restored && prev.AsString() != "" && !isTrue(v, "added") {
			diags = append(diags, providers.Diagnostic{Severity: providers.Warning, Summary: "Default not given back",
				Detail: fmt.Sprintf("%s became the default in place of %q, which %s on host %q no longer has, so it stays the default; choose another with drover boot set-default if need be.", id, prev.AsString(), s.file, h.Name())})
		}
	}
	if s.ini != nil {
		e, _ := s.ini.Entry(id)
		switch {
		case isTrue(v, "added"):
			s.ini.RemoveEntry(id)
			if isDefault {
				diags = append(diags, s.defaultAfterRemoval(id, prev))
			}
		case !v.GetAttr("replaced_entry").IsNull() && e.Value == bootini.EntryValue(str(v, "label"), str(v, "options")):
			if err := s.ini.SetEntryValue(id, v.GetAttr("replaced_entry").AsString()); err != nil {
				return errDiag("path", "Cannot write the entry back", err)
			}
		}
	}
	if t, ok := s.timeout(); ok && !v.GetAttr("replaced_timeout").IsNull() && !v.GetAttr("timeout").IsNull() && int64(t) == intAttr(v, "timeout") {
		if err := s.setTimeout(int(intAttr(v, "replaced_timeout"))); err != nil {
			return errDiag("timeout", "Cannot give back the timeout", err)
		}
	}
	if err := s.save(ctx); err != nil {
		return errDiag("file", "Cannot write the boot menu", err)
	}
	return diags
}

// defaultAfterRemoval points the BOOT.INI default, which named the entry
// just removed, at the first entry left, since the default it replaced
// is unknown or gone: a default naming no entry may leave the machine
// unbootable. The warning says what happened.
func (s *bootStore) defaultAfterRemoval(removed string, replaced cty.Value) providers.Diagnostic {
	why := "no default was recorded as replaced by it"
	if !replaced.IsNull() {
		why = fmt.Sprintf("the default it replaced, %q, is no longer in the file", replaced.AsString())
	}
	w := providers.Diagnostic{Severity: providers.Warning, Summary: "Default moved to another entry"}
	es := s.ini.Entries()
	if len(es) == 0 {
		w.Summary = "Default names a removed entry"
		w.Detail = fmt.Sprintf("%s on host %q: the default named %s, which destroy removed, and %s; no entry is left to boot. Add one and make it the default.", s.file, s.h.Name(), removed, why)
		return w
	}
	// SetDefault cannot fail: the entry was just listed.
	_ = s.ini.SetDefault(es[0].Path)
	w.Detail = fmt.Sprintf("%s on host %q: the default named %s, which destroy removed, and %s; the default is now the first entry, %s. Check it with drover boot set-default.", s.file, s.h.Name(), removed, why, es[0].Path)
	return w
}
