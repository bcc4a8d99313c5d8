package nfsconf

import (
	"fmt"
	"strings"
)

// Block is one block of a Ganesha configuration, NAME { key = value; ... },
// with its parameters and nested blocks in order.
type Block struct {
	Name   string
	Params []Param
	Blocks []Block
}

// Param is one "key = value;" of a block; a list value keeps its commas
// ("4, 3"), a quoted one loses its quotes.
type Param struct{ Key, Value string }

// Get is the value of the parameter key (Ganesha compares keys without
// case), and whether it is set.
func (b Block) Get(key string) (string, bool) {
	for _, p := range b.Params {
		if strings.EqualFold(p.Key, key) {
			return p.Value, true
		}
	}
	return "", false
}

// token is a word, a quoted string or one of { } = ; , with the line it
// starts on.
type token struct {
	text   string
	quoted bool
	line   int
}

// lex splits a configuration into tokens. Comments run from # to the end
// of the line; directives (%include, %url) are whole lines and are not
// followed: only the file itself is read.
func lex(src string) ([]token, error) {
	var toks []token
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#' || c == '%':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.IndexByte("{}=;,", c) >= 0:
			toks = append(toks, token{text: string(c), line: line})
			i++
		case c == '"' || c == '\'':
			end := strings.IndexByte(src[i+1:], c)
			if end < 0 || strings.Contains(src[i+1:i+1+end], "\n") {
				return nil, fmt.Errorf("line %d: a quoted string without its closing %c", line, c)
			}
			toks = append(toks, token{text: src[i+1 : i+1+end], quoted: true, line: line})
			i += end + 2
		default:
			j := i
			for j < len(src) && !strings.ContainsRune(" \t\r\n{}=;,#\"'", rune(src[j])) {
				j++
			}
			toks = append(toks, token{text: src[i:j], line: line})
			i = j
		}
	}
	return toks, nil
}

// Parse reads a Ganesha configuration file: blocks at the top, each
// holding "key = value;" parameters (the last ; before } may be left out)
// and nested blocks.
func Parse(b []byte) ([]Block, error) {
	toks, err := lex(string(b))
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	var blocks []Block
	for !p.done() {
		blk, err := p.block()
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, blk)
	}
	return blocks, nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) done() bool { return p.i >= len(p.toks) }

func (p *parser) peek() token {
	if p.done() {
		line := 1
		if len(p.toks) > 0 {
			line = p.toks[len(p.toks)-1].line
		}
		return token{line: line}
	}
	return p.toks[p.i]
}

// word is a name: an unquoted token that is not punctuation.
func (t token) word() bool {
	return t.text != "" && !t.quoted && !strings.Contains("{}=;,", t.text)
}

// block reads NAME { ... }.
func (p *parser) block() (Block, error) {
	name := p.peek()
	if !name.word() {
		return Block{}, fmt.Errorf("line %d: %q where a block name was expected", name.line, name.text)
	}
	p.i++
	if t := p.peek(); t.text != "{" || t.quoted {
		return Block{}, fmt.Errorf("line %d: block %s without its {", t.line, name.text)
	}
	p.i++
	b := Block{Name: name.text}
	for {
		t := p.peek()
		switch {
		case p.done():
			return Block{}, fmt.Errorf("line %d: block %s without its closing }", t.line, b.Name)
		case t.text == "}" && !t.quoted:
			p.i++
			return b, nil
		case t.text == ";" && !t.quoted:
			p.i++
		case !t.word():
			return Block{}, fmt.Errorf("line %d: %q where a parameter or block was expected in %s", t.line, t.text, b.Name)
		case p.i+1 < len(p.toks) && p.toks[p.i+1].text == "{" && !p.toks[p.i+1].quoted:
			inner, err := p.block()
			if err != nil {
				return Block{}, err
			}
			b.Blocks = append(b.Blocks, inner)
		default:
			param, err := p.param()
			if err != nil {
				return Block{}, err
			}
			b.Params = append(b.Params, param)
		}
	}
}

// param reads key = value[, value...] up to ; or the block's }.
func (p *parser) param() (Param, error) {
	key := p.toks[p.i]
	p.i++
	if t := p.peek(); t.text != "=" || t.quoted {
		return Param{}, fmt.Errorf("line %d: %s without its = value", key.line, key.text)
	}
	p.i++
	var values []string
	for {
		t := p.peek()
		if p.done() || (!t.quoted && (t.text == ";" || t.text == "}")) {
			break
		}
		if !t.quoted && strings.Contains("{=,", t.text) {
			return Param{}, fmt.Errorf("line %d: %q in the value of %s", t.line, t.text, key.text)
		}
		values = append(values, t.text)
		p.i++
		if n := p.peek(); n.text == "," && !n.quoted {
			p.i++
		}
	}
	if len(values) == 0 {
		return Param{}, fmt.Errorf("line %d: %s = without a value", key.line, key.text)
	}
	return Param{Key: key.text, Value: strings.Join(values, ", ")}, nil
}
