package bootini

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// File is a parsed BOOT.INI.
type File struct {
	name  string
	lines []line
}

// line is one line of the file, its bytes kept as read.
type line struct {
	text    string // without its line end
	end     string // "\r\n", "\n" or "" (the last line)
	section string // the section it is in, lower case
	// For a key=value line:
	key, value string
}

// Entry is a line of [operating systems].
type Entry struct {
	// Path is the ARC path (or a drive path like C:\) the loader boots.
	Path    string
	Label   string
	Options string
	// Value is everything after the =, as written: the quoted label and
	// the switches.
	Value string
	Line  int
}

// Error is a BOOT.INI that cannot be read.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

const (
	loaderSection = "boot loader"
	osSection     = "operating systems"
)

// Parse reads BOOT.INI content; name is used in errors.
func Parse(name string, b []byte) (*File, error) {
	f := &File{name: name}
	fail := func(n int, format string, args ...any) (*File, error) {
		return nil, &Error{File: name, Line: n, Msg: fmt.Sprintf(format, args...)}
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return fail(bytes.Count(b[:i], []byte{'\n'})+1, "the file holds NUL bytes (UTF-16?): BOOT.INI is plain ANSI text; save it as ANSI")
	}
	rest := string(b)
	section := ""
	seen := map[string]bool{}
	for n := 1; rest != ""; n++ {
		l := line{}
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			l.text, rest = rest[:i], rest[i+1:]
			l.end = "\n"
			if strings.HasSuffix(l.text, "\r") {
				l.text, l.end = l.text[:len(l.text)-1], "\r\n"
			}
		} else {
			l.text, rest = rest, ""
		}
		t := strings.TrimSpace(l.text)
		switch {
		case t == "" || t[0] == ';':
		case t[0] == '[':
			end := strings.IndexByte(t, ']')
			if end < 0 {
				return fail(n, "the section header %q has no closing ]", t)
			}
			section = strings.ToLower(strings.TrimSpace(t[1:end]))
			seen[section] = true
		case section == osSection && t[0] == '/':
			// A line of switches alone: kept, not an entry.
		default:
			k, v, ok := strings.Cut(t, "=")
			if !ok {
				if section == osSection {
					return fail(n, "the entry %q has no =: an entry is ARC_PATH=\"label\" /switches", t)
				}
			}
			l.key, l.value = strings.TrimSpace(k), strings.TrimSpace(v)
			if section == osSection && l.key == "" {
				return fail(n, "the entry %q has no ARC path before =", t)
			}
		}
		l.section = section
		f.lines = append(f.lines, l)
	}
	for _, s := range []string{loaderSection, osSection} {
		if !seen[s] {
			return fail(0, "there is no [%s] section: this is not a BOOT.INI (it needs [boot loader] and [operating systems])", s)
		}
	}
	return f, nil
}

// Bytes is the file with every edit made.
func (f *File) Bytes() []byte {
	var b strings.Builder
	for _, l := range f.lines {
		b.WriteString(l.text)
		b.WriteString(l.end)
	}
	return []byte(b.String())
}

func (f *File) setting(key string) (int, bool) {
	for i, l := range f.lines {
		if l.section == loaderSection && strings.EqualFold(l.key, key) {
			return i, true
		}
	}
	return 0, false
}

// Default is the [boot loader] default, "" when there is none.
func (f *File) Default() string {
	if i, ok := f.setting("default"); ok {
		return f.lines[i].value
	}
	return ""
}

// Timeout is the [boot loader] timeout in seconds; ok is false when it
// is missing or not a number.
func (f *File) Timeout() (n int, ok bool) {
	i, found := f.setting("timeout")
	if !found {
		return 0, false
	}
	n, err := strconv.Atoi(f.lines[i].value)
	return n, err == nil
}

// isEntry says whether a line of [operating systems] is an entry: its key
// is a path NTLDR can boot, an ARC path (multi(0)disk(0)...) or a drive
// path (C:\, C:\CMDCONS\BOOTSECT.DAT). Other key=value lines there, such as
// a default= that belongs in [boot loader], are kept as they are but boot
// nothing.
func (l line) isEntry() bool {
	return l.section == osSection && l.key != "" && strings.ContainsAny(l.key, `(:\`)
}

// Entries lists [operating systems] in file order.
func (f *File) Entries() []Entry {
	var out []Entry
	for i, l := range f.lines {
		if !l.isEntry() {
			continue
		}
		e := Entry{Path: l.key, Value: l.value, Line: i + 1}
		v := l.value
		if strings.HasPrefix(v, `"`) {
			if end := strings.IndexByte(v[1:], '"'); end >= 0 {
				e.Label, e.Options = v[1:1+end], strings.TrimSpace(v[2+end:])
			} else {
				e.Label = v[1:]
			}
		} else {
			e.Label = v
		}
		out = append(out, e)
	}
	return out
}

// Entry finds the entry for path (case-insensitive, as NTLDR compares:
// \WINNT and \winnt are one entry).
func (f *File) Entry(path string) (Entry, bool) {
	for _, e := range f.Entries() {
		if strings.EqualFold(e.Path, path) {
			return e, true
		}
	}
	return Entry{}, false
}

func (f *File) describeEntries() string {
	var paths []string
	for _, e := range f.Entries() {
		paths = append(paths, e.Path)
	}
	if len(paths) == 0 {
		return "it has none"
	}
	return "it has " + strings.Join(paths, ", ")
}

// SetDefault makes path, which must be an entry, the default. A default
// that already names the entry, in any case, stays as written.
func (f *File) SetDefault(path string) error {
	e, ok := f.Entry(path)
	if !ok {
		return &Error{File: f.name, Msg: fmt.Sprintf("no entry in [operating systems] boots %s (%s); add it first", path, f.describeEntries())}
	}
	if _, set := f.setting("default"); set && strings.EqualFold(f.Default(), e.Path) {
		return nil
	}
	f.set("default", e.Path)
	return nil
}

// SetTimeout sets the seconds the menu waits.
func (f *File) SetTimeout(seconds int) { f.set("timeout", strconv.Itoa(seconds)) }

// set changes a [boot loader] setting, adding it after the section header
// when missing.
func (f *File) set(key, value string) {
	if i, ok := f.setting(key); ok {
		f.lines[i].replace(value)
		return
	}
	at := f.sectionEnd(loaderSection)
	f.insert(at, line{text: key + "=" + value, section: loaderSection, key: key, value: value})
}

// replace changes the value of a key=value line, keeping the spacing
// around it.
func (l *line) replace(value string) {
	if l.value == value {
		return
	}
	eq := strings.IndexByte(l.text, '=')
	old := l.text[eq+1:]
	lead := old[:len(old)-len(strings.TrimLeft(old, " \t"))]
	trail := old[len(strings.TrimRight(old, " \t")):]
	l.text = l.text[:eq+1] + lead + value + trail
	l.value = value
}

// sectionEnd is where a new line of section goes: after its last
// non-blank line.
func (f *File) sectionEnd(section string) int {
	at := -1
	for i, l := range f.lines {
		if l.section != section {
			continue
		}
		if strings.TrimSpace(l.text) != "" || at < 0 {
			at = i + 1
		}
	}
	return at
}

func (f *File) newline() string {
	for _, l := range f.lines {
		if l.end != "" {
			return l.end
		}
	}
	return "\r\n"
}

func (f *File) insert(at int, l line) {
	l.end = f.newline()
	if at > 0 && f.lines[at-1].end == "" {
		f.lines[at-1].end = l.end
		if at == len(f.lines) {
			l.end = ""
		}
	}
	f.lines = append(f.lines[:at], append([]line{l}, f.lines[at:]...)...)
}

// SetEntry makes the entry for path read label and options, changing its
// line when there is one and adding a line at the end of [operating
// systems] otherwise.
func (f *File) SetEntry(path, label, options string) error {
	if strings.ContainsAny(path, "=\r\n") || strings.ContainsAny(label, "\"\r\n") || strings.ContainsAny(options, "\r\n") {
		return &Error{File: f.name, Msg: fmt.Sprintf("the entry %s=%q %s cannot be written in BOOT.INI (no = in the path, no quote in the label, no line breaks)", path, label, options)}
	}
	if !(line{section: osSection, key: path}).isEntry() {
		return &Error{File: f.name, Msg: fmt.Sprintf("%q is not a path NTLDR boots: an entry is an ARC path like multi(0)disk(0)rdisk(0)partition(1)\\WINNT or a drive path like C:\\", path)}
	}
	value := EntryValue(label, options)
	if e, ok := f.Entry(path); ok {
		f.lines[e.Line-1].replace(value)
		return nil
	}
	f.insert(f.sectionEnd(osSection), line{text: path + "=" + value, section: osSection, key: path, value: value})
	return nil
}

// EntryValue is what SetEntry writes after the =.
func EntryValue(label, options string) string {
	if options == "" {
		return `"` + label + `"`
	}
	return `"` + label + `" ` + options
}

// SetEntryValue writes back an entry's Value as it was read, e.g. to undo
// SetEntry.
func (f *File) SetEntryValue(path, value string) error {
	e, ok := f.Entry(path)
	if !ok {
		return &Error{File: f.name, Msg: fmt.Sprintf("no entry in [operating systems] boots %s (%s)", path, f.describeEntries())}
	}
	if strings.ContainsAny(value, "\r\n") {
		return &Error{File: f.name, Msg: fmt.Sprintf("the entry %s=%s cannot be written in BOOT.INI (no line breaks)", path, value)}
	}
	f.lines[e.Line-1].replace(value)
	return nil
}

// RemoveEntry deletes the line of the entry for path, if any.
func (f *File) RemoveEntry(path string) {
	if e, ok := f.Entry(path); ok {
		i := e.Line - 1
		if f.lines[i].end == "" && i > 0 {
			f.lines[i-1].end = ""
		}
		f.lines = append(f.lines[:i], f.lines[i+1:]...)
	}
}
