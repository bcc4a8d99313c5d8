package lang

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/internal/suggest"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
)

// File name suffixes LoadDir reads.
const (
	NativeSuffix = ".dr.hcl"
	JSONSuffix   = ".dr.json"
)

// IsConfigFile tells whether LoadDir would read a file of this name.
func IsConfigFile(name string) bool {
	return strings.HasSuffix(name, NativeSuffix) || strings.HasSuffix(name, JSONSuffix)
}

// source is one configuration file's name (as diagnostics show it) and
// bytes.
type source struct {
	name string
	src  []byte
}

// LoadDir parses every *.dr.hcl and *.dr.json file of dir (not recursive)
// into a Config. Diagnostics carry source ranges; Config is non-nil even
// with errors so callers can render what was read.
func LoadDir(dir string) (*Config, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	cfg := newConfig(dir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return cfg, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration folder",
			Detail:   fmt.Sprintf("Reading %s failed: %s.", dir, err),
		})
	}
	var srcs []source
	for _, e := range entries {
		if e.IsDir() || !IsConfigFile(e.Name()) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(name)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read configuration file",
				Detail:   fmt.Sprintf("Reading %s failed: %s.", name, err),
			})
			continue
		}
		srcs = append(srcs, source{name: name, src: b})
	}
	if len(srcs) == 0 && !diags.HasErrors() {
		return cfg, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   fmt.Sprintf("The folder %s holds no *%s or *%s files. Run drover in the folder that holds the configuration.", dir, NativeSuffix, JSONSuffix),
		})
	}
	return cfg, append(diags, cfg.load(srcs)...)
}

func newConfig(dir string) *Config {
	return &Config{
		Dir:       dir,
		Files:     map[string]*hcl.File{},
		Hosts:     map[string]*Host{},
		Providers: map[string]*ProviderConfig{},
		Variables: map[string]*Variable{},
		Locals:    map[string]*Local{},
		Outputs:   map[string]*Output{},
		Resources: map[addrs.Resource]*Resource{},
		Runbooks:  map[string]*Runbook{},
	}
}

// load parses and decodes srcs, in order, into cfg.
func (cfg *Config) load(srcs []source) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, s := range srcs {
		var file *hcl.File
		var d hcl.Diagnostics
		if strings.HasSuffix(s.name, ".json") {
			file, d = hcljson.Parse(s.src, s.name)
		} else {
			file, d = hclsyntax.ParseConfig(s.src, s.name, hcl.InitialPos)
		}
		diags = append(diags, d...)
		cfg.Files[s.name] = file
		if d.HasErrors() {
			continue
		}
		diags = append(diags, cfg.decodeFile(file)...)
	}
	diags = append(diags, cfg.checkRunbookResources()...)
	diags = append(diags, cfg.checkRunbooks()...)
	diags = append(diags, cfg.checkMoved()...)
	diags = append(diags, cfg.checkImports()...)
	diags = append(diags, cfg.checkRemoved()...)
	sortDiagnostics(diags)
	return diags
}

// sortDiagnostics orders diagnostics by file and position, those without a
// subject first, keeping the order of diagnostics at the same place.
func sortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
}

// Hash identifies the configuration's content: SHA-256 over the base name
// and bytes of every file, in name order, each length-prefixed so that no
// two different folders hash alike. It does not depend on the folder's
// path, so a plan made in one working directory applies from another.
func (c *Config) Hash() string {
	names := make([]string, 0, len(c.Files))
	for name := range c.Files {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return filepath.Base(names[i]) < filepath.Base(names[j]) })
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, name := range names {
		field([]byte(filepath.Base(name)))
		var src []byte
		if f := c.Files[name]; f != nil {
			src = f.Bytes
		}
		field(src)
	}
	return hex.EncodeToString(h.Sum(nil))
}

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "drover"},
		{Type: "host", LabelNames: []string{"name"}},
		{Type: "provider", LabelNames: []string{"name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "output", LabelNames: []string{"name"}},
		{Type: "resource", LabelNames: []string{"type", "name"}},
		{Type: "data", LabelNames: []string{"type", "name"}},
		{Type: "runbook", LabelNames: []string{"name"}},
		{Type: "moved"},
		{Type: "import"},
		{Type: "removed"},
	},
}

func (cfg *Config) decodeFile(file *hcl.File) hcl.Diagnostics {
	content, diags := bodyContent(file.Body, fileSchema)
	for _, block := range content.Blocks {
		if !validLabels(block, &diags) {
			continue
		}
		switch block.Type {
		case "drover":
			diags = append(diags, cfg.decodeDrover(block)...)
		case "host":
			diags = append(diags, cfg.decodeHost(block)...)
		case "provider":
			diags = append(diags, cfg.decodeProvider(block)...)
		case "variable":
			diags = append(diags, cfg.decodeVariable(block)...)
		case "locals":
			diags = append(diags, cfg.decodeLocals(block)...)
		case "output":
			diags = append(diags, cfg.decodeOutput(block)...)
		case "resource", "data":
			r, d := decodeResource(block)
			diags = append(diags, d...)
			if r == nil {
				continue
			}
			if prev, ok := cfg.Resources[r.Addr]; ok {
				diags = append(diags, duplicate("resource", r.Addr.String(), prev.DeclRange, r.DeclRange))
				continue
			}
			cfg.Resources[r.Addr] = r
		case "runbook":
			diags = append(diags, cfg.decodeRunbook(block)...)
		case "moved":
			diags = append(diags, cfg.decodeMoved(block)...)
		case "import":
			diags = append(diags, cfg.decodeImport(block)...)
		case "removed":
			diags = append(diags, cfg.decodeRemoved(block)...)
		}
	}
	return diags
}

// validLabels reports labels that cannot be used in references.
func validLabels(block *hcl.Block, diags *hcl.Diagnostics) bool {
	ok := true
	for i, l := range block.Labels {
		if hclsyntax.ValidIdentifier(l) {
			continue
		}
		ok = false
		*diags = append(*diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + block.Type + " label",
			Detail:   fmt.Sprintf("%q cannot be used in references: a name starts with a letter or underscore and holds only letters, digits, underscores and dashes.", l),
			Subject:  block.LabelRanges[i].Ptr(),
		})
	}
	return ok
}

// RelatedRange is the Extra of a diagnostic that also concerns a second
// place in the source, such as the first declaration of a duplicated name.
// WriteDiagnostics shows its snippet after the subject's.
type RelatedRange struct {
	Label string
	Range hcl.Range
}

func duplicate(kind, name string, prev, cur hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + kind,
		Detail:   fmt.Sprintf("%s %s named %s was already declared at %s. Each %s needs a name of its own: rename or remove one of them.", article(kind), kind, quoteName(name), shortRange(prev), kind),
		Subject:  cur.Ptr(),
		Extra:    RelatedRange{Label: "first declared", Range: prev},
	}
}

// duplicateSingleton reports a second block of a type allowed once.
func duplicateSingleton(blockType string, prev, cur hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + blockType + " block",
		Detail:   fmt.Sprintf("Only one %s block is allowed here, and one was already declared at %s. Merge the two into one.", blockType, shortRange(prev)),
		Subject:  cur.Ptr(),
		Extra:    RelatedRange{Label: "first declared", Range: prev},
	}
}

func article(noun string) string {
	if strings.ContainsRune("aeiou", rune(noun[0])) {
		return "An"
	}
	return "A"
}

// quoteName quotes plain names but not addresses, which read better bare.
func quoteName(name string) string {
	if strings.Contains(name, ".") {
		return name
	}
	return fmt.Sprintf("%q", name)
}

func shortRange(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

// bodyContent is body.Content, except that for native syntax unknown
// argument and block names are reported with the suggestion of suggest.Nearest
// and the list of what is expected. JSON bodies keep hcl's own messages,
// which cannot tell arguments from blocks until a schema says so.
func bodyContent(body hcl.Body, schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return body.Content(schema)
	}
	content, _, diags := sb.PartialContent(schema)
	var attrNames, blockTypes []string
	for _, a := range schema.Attributes {
		attrNames = append(attrNames, a.Name)
	}
	for _, b := range schema.Blocks {
		blockTypes = append(blockTypes, b.Type)
	}
	var extra hcl.Diagnostics
	for name, attr := range sb.Attributes {
		if slices.Contains(attrNames, name) {
			continue
		}
		detail := fmt.Sprintf("An argument named %q is not expected here.", name)
		switch {
		case slices.Contains(blockTypes, name):
			detail += fmt.Sprintf(" Did you mean to define a block of type %q?", name)
		case suggest.Nearest(name, attrNames) != "":
			detail += fmt.Sprintf(" Did you mean %q?", suggest.Nearest(name, attrNames))
		case len(attrNames) > 0:
			detail += " Expected one of: " + strings.Join(sorted(attrNames), ", ") + "."
		case len(blockTypes) > 0:
			detail += " Only blocks belong here: " + strings.Join(sorted(blockTypes), ", ") + "."
		}
		extra = append(extra, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported argument",
			Detail:   detail,
			Subject:  attr.NameRange.Ptr(),
		})
	}
	for _, block := range sb.Blocks {
		if slices.Contains(blockTypes, block.Type) {
			continue
		}
		detail := fmt.Sprintf("Blocks of type %q are not expected here.", block.Type)
		switch {
		case slices.Contains(attrNames, block.Type):
			detail += fmt.Sprintf(" Did you mean to set the argument %q? Use an equals sign: %s = ...", block.Type, block.Type)
		case suggest.Nearest(block.Type, blockTypes) != "":
			detail += fmt.Sprintf(" Did you mean %q?", suggest.Nearest(block.Type, blockTypes))
		case len(blockTypes) > 0:
			detail += " Expected one of: " + strings.Join(sorted(blockTypes), ", ") + "."
		}
		extra = append(extra, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported block type",
			Detail:   detail,
			Subject:  block.TypeRange.Ptr(),
		})
	}
	sort.SliceStable(extra, func(i, j int) bool { return extra[i].Subject.Start.Byte < extra[j].Subject.Start.Byte })
	return content, append(diags, extra...)
}

func sorted(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return out
}
