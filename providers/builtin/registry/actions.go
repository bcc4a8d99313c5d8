package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/registry/regstore"
	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

func importAction() *sdk.Action {
	attrs := locationAttrs(false)
	attrs["file"] = &schema.Attribute{Type: cty.String, Required: true,
		Description: "The .reg file on the host to import."}
	attrs["undo"] = &schema.Attribute{Type: cty.String, Optional: true,
		Description: "Where to save the .reg file that undoes the import (default: file with .undo.reg in place of .reg). An undo file already there is kept at its end, so importing it restores the state before the first import."}
	attrs["create"] = &schema.Attribute{Type: cty.Bool, Optional: true,
		Description: "Create an empty hive file when hive names a missing one."}
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Imports a .reg file into a host's registry (a hive file or the live registry): missing parent keys are created, the undo file is saved first, and a failure changes nothing.",
			Args:        &schema.Block{Attributes: attrs},
			Result: cty.Object(map[string]cty.Type{
				"keys": cty.Number, "values": cty.Number, "undo": cty.String, "undo_keys": cty.Number,
			}),
		},
		Invoke: invokeImport,
	}
}

// undoPath is where the undo file of an import of file goes by default.
func undoPath(file string) string {
	return strings.TrimSuffix(file, ".reg") + ".undo.reg"
}

func invokeImport(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
	args := req.Args
	diags := validateLocation(args, "")
	diags = append(diags, absolutePath(args, "file")...)
	diags = append(diags, absolutePath(args, "undo")...)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	h, store, diags := open(args)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	file := str(args, "file")
	undo := str(args, "undo")
	if undo == "" {
		undo = undoPath(file)
	}
	if opts := options(args); boolOr(args, "create", false) && opts.Hive != regstore.Live {
		if err := regstore.CreateHive(ctx, h, opts.Hive); err != nil {
			return cty.NilVal, fail("Cannot create the hive", err)
		}
	}
	req.Progress(providers.Progress{Message: "reading " + file})
	doc, err := readReg(ctx, h, file)
	if err != nil {
		return cty.NilVal, fail("Cannot read the .reg file", err)
	}
	diags = warnings(doc)
	var saved []regtext.Key
	save := func(keys []regtext.Key) error {
		req.Progress(providers.Progress{Message: "saving the undo file " + undo})
		all, err := withEarlierUndo(ctx, h, undo, keys)
		if err != nil {
			return err
		}
		// The undo file is in the import file's encoding, or UTF-16LE
		// when UTF-8 cannot hold what it saves (a NUL in a name).
		undoDoc := &regtext.Document{Header: regtext.Version5, Encoding: regtext.UTF16LE, Keys: all}
		if doc.Encoding == regtext.UTF8 {
			undoDoc.Encoding = regtext.UTF8
		}
		b, err := regtext.Encode(undoDoc)
		if err != nil && undoDoc.Encoding == regtext.UTF8 {
			undoDoc.Encoding = regtext.UTF16LE
			b, err = regtext.Encode(undoDoc)
		}
		if err != nil {
			return fmt.Errorf("writing the undo file %s: %w", undo, err)
		}
		saved = all
		return h.WriteFile(ctx, undo, bytes.NewReader(b), 0o600)
	}
	req.Progress(providers.Progress{Message: fmt.Sprintf("importing %s into %s", file, store)})
	if _, err := store.Import(ctx, doc.Keys, save); err != nil {
		err = fmt.Errorf("importing %s on host %q into %s: %w", file, h.Name(), store, err)
		if options(args).Hive != regstore.Live {
			err = fmt.Errorf("%w. The hive file is unchanged", err)
		}
		return cty.NilVal, fail("Registry import failed", err)
	}
	nkeys, nvalues := count(doc.Keys)
	return cty.ObjectVal(map[string]cty.Value{
		"keys":      cty.NumberIntVal(int64(nkeys)),
		"values":    cty.NumberIntVal(int64(nvalues)),
		"undo":      cty.StringVal(undo),
		"undo_keys": cty.NumberIntVal(int64(len(saved))),
	}), diags
}

// withEarlierUndo appends the sections of an undo file already at path:
// undoing this import first and the earlier ones after restores the state
// before the earliest.
func withEarlierUndo(ctx context.Context, h host.Host, path string, keys []regtext.Key) ([]regtext.Key, error) {
	if _, err := h.Lstat(ctx, path); errors.Is(err, fs.ErrNotExist) {
		return keys, nil
	}
	earlier, err := readReg(ctx, h, path)
	if err != nil {
		return nil, fmt.Errorf("an undo file is already there but cannot be read (%w); move it away or name another with undo", err)
	}
	for _, k := range earlier.Keys {
		k.Line = 0
		for i := range k.Values {
			k.Values[i].Line = 0
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func fail(summary string, err error) providers.Diagnostics {
	return providers.Diagnostics{providers.Errorf(summary, "%s.", err)}
}

func exportAction() *sdk.Action {
	attrs := locationAttrs(false)
	attrs["key"] = &schema.Attribute{Type: cty.String, Required: true,
		Description: "The key to export (as registry_capture's key)."}
	attrs["recursive"] = &schema.Attribute{Type: cty.Bool, Optional: true,
		Description: "Export the keys below key too (the default)."}
	attrs["file"] = &schema.Attribute{Type: cty.String, Optional: true,
		Description: "Write the .reg file there on the host, atomically."}
	attrs["baseline"] = &schema.Attribute{Type: cty.String, Optional: true,
		Description: "A .reg file of defaults on the host: export only what differs from it."}
	attrs["encoding"] = &schema.Attribute{Type: cty.String, Optional: true,
		Description: "Of file: \"utf-16le\" (the default) or \"utf-8\"."}
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Exports a registry key as a .reg file; the result carries the file's text.",
			Args:        &schema.Block{Attributes: attrs},
			Result:      cty.Object(map[string]cty.Type{"content": cty.String, "keys": cty.Number, "values": cty.Number}),
		},
		Invoke: invokeExport,
	}
}

func invokeExport(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
	args := req.Args
	diags := validateCapture(ctx, args)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	c, diags := takeCapture(ctx, args)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	// content is the export as UTF-8 text, to print. What UTF-8 cannot
	// hold (a NUL in a name) can only go to a UTF-16LE file: printed, it
	// would not import back.
	file := str(args, "file")
	text, err := regtext.Encode(&regtext.Document{Header: regtext.Version5, Encoding: regtext.UTF8, Keys: c.keys})
	if err != nil && file == "" {
		return cty.NilVal, fail("Cannot print the export", fmt.Errorf("%w: write it to a file instead (the file argument, --out)", err))
	}
	if file != "" {
		h, err := host.FromValue(args.GetAttr("host"))
		if err != nil {
			return cty.NilVal, fail("Invalid host", err)
		}
		defer h.Close()
		if err := h.WriteFile(ctx, file, bytes.NewReader(c.content), 0o644); err != nil {
			return cty.NilVal, fail("Cannot write the .reg file", err)
		}
	}
	nkeys, nvalues := count(c.keys)
	return cty.ObjectVal(map[string]cty.Value{
		"content": cty.StringVal(string(text)),
		"keys":    cty.NumberIntVal(int64(nkeys)),
		"values":  cty.NumberIntVal(int64(nvalues)),
	}), nil
}

func diffAction() *sdk.Action {
	attrs := locationAttrs(false)
	attrs["key"] = &schema.Attribute{Type: cty.String, Required: true,
		Description: "The key to compare (as registry_capture's key)."}
	attrs["recursive"] = &schema.Attribute{Type: cty.Bool, Optional: true,
		Description: "Compare the keys below key too (the default)."}
	attrs["file"] = &schema.Attribute{Type: cty.String, Required: true,
		Description: "The .reg file on the host to compare with, e.g. a capture."}
	attrs["baseline"] = &schema.Attribute{Type: cty.String, Optional: true,
		Description: "A .reg file of defaults on the host: leave out of the comparison the registry values equal to it, as a trimmed capture does."}
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Lists how a registry key differs from a .reg file: + only in the registry, - only in the file, ~ changed (file → registry).",
			Args:        &schema.Block{Attributes: attrs},
			Result:      cty.Object(map[string]cty.Type{"changes": cty.List(cty.String)}),
		},
		Invoke: invokeDiff,
	}
}

func invokeDiff(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
	args := req.Args
	diags := validateLocation(args, "key")
	diags = append(diags, absolutePath(args, "file")...)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	h, store, diags := open(args)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	file, key := str(args, "file"), str(args, "key")
	doc, err := readReg(ctx, h, file)
	if err != nil {
		return cty.NilVal, fail("Cannot read the .reg file", err)
	}
	diags = warnings(doc)
	keys, err := store.Export(ctx, key, boolOr(args, "recursive", true))
	if err != nil {
		return cty.NilVal, fail("Cannot read the registry", fmt.Errorf("reading %s from %s: %w", key, store, err))
	}
	if b := str(args, "baseline"); b != "" {
		base, err := readReg(ctx, h, b)
		if err != nil {
			return cty.NilVal, fail("Cannot read the baseline", err)
		}
		diags = append(diags, warnings(base)...)
		keys = trim(keys, base.Keys)
	}
	changes := diffKeys(doc.Keys, keys)
	lines := make([]cty.Value, len(changes))
	for i, c := range changes {
		lines[i] = cty.StringVal(c.String())
	}
	list := cty.ListValEmpty(cty.String)
	if len(lines) > 0 {
		list = cty.ListVal(lines)
	}
	return cty.ObjectVal(map[string]cty.Value{"changes": list}), diags
}
