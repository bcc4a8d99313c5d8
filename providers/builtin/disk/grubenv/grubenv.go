package grubenv

import (
	"fmt"
	"strings"
)

// Size is the size of an environment block.
const Size = 1024

const header = "# GRUB Environment Block\n"

// Env is a parsed environment block.
type Env struct {
	name  string
	items []item
}

// item is a line of the block: a comment (kept as is) or a variable.
type item struct {
	comment     string
	name, value string
}

// Error is an environment block that cannot be read or written.
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

// New is an empty block, as `grub-editenv FILE create` makes.
func New(name string) *Env { return &Env{name: name} }

// Parse reads a block; name is used in errors.
func Parse(name string, b []byte) (*Env, error) {
	fail := func(line int, format string, args ...any) (*Env, error) {
		return nil, &Error{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	if len(b) != Size {
		return fail(0, "the file is %d bytes; a GRUB environment block is exactly %d (grub-editenv FILE create makes one)", len(b), Size)
	}
	s := string(b)
	if !strings.HasPrefix(s, header) {
		return fail(1, "the file does not start with %q: it is not a GRUB environment block", strings.TrimSuffix(header, "\n"))
	}
	e := &Env{name: name}
	rest := s[len(header):]
	for line := 2; rest != ""; line++ {
		end := strings.IndexByte(rest, '\n')
		if rest[0] == '#' && end < 0 {
			if strings.Trim(rest, "#") != "" {
				return fail(line, "the padding after the variables holds something other than '#'")
			}
			break
		}
		if end < 0 {
			return fail(line, "the last variable is not ended by a newline before the padding")
		}
		text := rest[:end]
		// A backslash escapes a newline: the value goes on.
		for oddBackslashes(text) && end+1 < len(rest) {
			next := strings.IndexByte(rest[end+1:], '\n')
			if next < 0 {
				break
			}
			end += 1 + next
			text = rest[:end]
		}
		rest = rest[end+1:]
		if text != "" && text[0] == '#' {
			e.items = append(e.items, item{comment: text})
			continue
		}
		k, v, ok := strings.Cut(text, "=")
		if !ok || k == "" {
			return fail(line, "%q is not a name=value line", text)
		}
		e.items = append(e.items, item{name: k, value: unescape(v)})
		line += strings.Count(text, "\n")
	}
	return e, nil
}

// oddBackslashes reports whether s ends in an escaping backslash.
func oddBackslashes(s string) bool {
	n := len(s) - len(strings.TrimRight(s, `\`))
	return n%2 == 1
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", "\\\n").Replace(s)
}

// Get returns a variable's value.
func (e *Env) Get(name string) (string, bool) {
	for _, it := range e.items {
		if it.comment == "" && it.name == name {
			return it.value, true
		}
	}
	return "", false
}

// Set sets a variable, adding it after the others when missing; it fails
// when the block would outgrow its 1024 bytes.
func (e *Env) Set(name, value string) error {
	if name == "" || strings.ContainsAny(name, "=\n") || name[0] == '#' {
		return &Error{File: e.name, Msg: fmt.Sprintf("%q is not a variable name", name)}
	}
	old := e.items
	e.items = append([]item(nil), e.items...)
	found := false
	for i := range e.items {
		if e.items[i].comment == "" && e.items[i].name == name {
			e.items[i].value, found = value, true
		}
	}
	if !found {
		e.items = append(e.items, item{name: name, value: value})
	}
	if n := len(e.content()); n > Size {
		e.items = old
		return &Error{File: e.name, Msg: fmt.Sprintf("setting %s makes the variables %d bytes, more than the %d-byte block holds", name, n, Size)}
	}
	return nil
}

// Unset removes a variable.
func (e *Env) Unset(name string) {
	out := e.items[:0]
	for _, it := range e.items {
		if it.comment != "" || it.name != name {
			out = append(out, it)
		}
	}
	e.items = out
}

func (e *Env) content() string {
	var b strings.Builder
	b.WriteString(header)
	for _, it := range e.items {
		if it.comment != "" {
			b.WriteString(it.comment)
		} else {
			b.WriteString(it.name + "=" + escape(it.value))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Bytes is the block, padded to Size.
func (e *Env) Bytes() []byte {
	s := e.content()
	return []byte(s + strings.Repeat("#", Size-len(s)))
}
