package extract

import (
	"strconv"
)

// A small reader of PDF's object syntax (ISO 32000-1 §7.2-7.3), shared by the
// object scan and the content-stream interpreter. It never panics on any input
// and bounds nesting.

type (
	pdfName    string
	pdfString  string // raw bytes, escapes resolved
	pdfKeyword string
	pdfArray   []any
	pdfDict    map[string]any
	pdfRef     struct{ num, gen int }
)

// maxNesting bounds arrays and dictionaries within each other.
const maxNesting = 64

type lexer struct {
	b   []byte
	pos int
	// peeked holds a token read ahead (for "n g R").
	peeked []any
	// work, when set, is charged every byte the lexer reads; once it is
	// spent the lexer reads as if at the end of its input.
	work *lexWork
	// stopped is set when nesting reached maxNesting: the lexer then reads
	// as if at the end, so that every open container ends at once.
	stopped bool
}

// lexWork is a budget of bytes to lex, shared by the lexers of one file.
type lexWork struct {
	left int // bytes the file's lexers may still read
	done int // bytes they have read
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

type delim string

// token returns the next token: float64 or int64 numbers, pdfName, pdfString,
// pdfKeyword (also true, false, null and operators), or delim for [ ] << >>;
// nil at the end.
func (l *lexer) token() any {
	if n := len(l.peeked); n > 0 {
		t := l.peeked[n-1]
		l.peeked = l.peeked[:n-1]
		return t
	}
	if l.stopped || l.work != nil && l.work.left <= 0 {
		return nil
	}
	start := l.pos
	t := l.next()
	if l.work != nil {
		l.work.done += l.pos - start
		l.work.left -= l.pos - start
	}
	return t
}

func (l *lexer) next() any {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		if isSpace(c) {
			l.pos++
			continue
		}
		if c == '%' {
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
			continue
		}
		break
	}
	if l.pos >= len(l.b) {
		return nil
	}
	c := l.b[l.pos]
	switch {
	case c == '[' || c == ']' || c == '{' || c == '}':
		l.pos++
		return delim(c)
	case c == '<' && l.pos+1 < len(l.b) && l.b[l.pos+1] == '<':
		l.pos += 2
		return delim("<<")
	case c == '>' && l.pos+1 < len(l.b) && l.b[l.pos+1] == '>':
		l.pos += 2
		return delim(">>")
	case c == '<':
		return l.hexString()
	case c == '(':
		return l.literalString()
	case c == '/':
		l.pos++
		start := l.pos
		for l.pos < len(l.b) && !isSpace(l.b[l.pos]) && !isDelim(l.b[l.pos]) {
			l.pos++
		}
		return pdfName(unescapeName(l.b[start:l.pos]))
	case c == ')' || c == '>':
		l.pos++
		return pdfKeyword(string(c))
	}
	start := l.pos
	for l.pos < len(l.b) && !isSpace(l.b[l.pos]) && !isDelim(l.b[l.pos]) {
		l.pos++
	}
	word := string(l.b[start:l.pos])
	if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' {
		if n, err := strconv.ParseInt(word, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(word, 64); err == nil {
			return f
		}
	}
	return pdfKeyword(word)
}

func (l *lexer) unread(t any) { l.peeked = append(l.peeked, t) }

func unescapeName(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '#' && i+2 < len(b) {
			if v, err := strconv.ParseUint(string(b[i+1:i+3]), 16, 8); err == nil {
				out = append(out, byte(v))
				i += 2
				continue
			}
		}
		out = append(out, b[i])
	}
	return string(out)
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (l *lexer) hexString() any {
	l.pos++ // <
	var out []byte
	var hi byte
	half := false
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		if c == '>' {
			break
		}
		v, ok := unhex(c)
		if !ok {
			continue
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return pdfString(out)
}

func (l *lexer) literalString() any {
	l.pos++ // (
	var out []byte
	depth := 1
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return pdfString(out)
			}
		case '\\':
			if l.pos >= len(l.b) {
				return pdfString(out)
			}
			e := l.b[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.b) && l.b[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '7'; k++ {
						v = v*8 + int(l.b[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return pdfString(out)
}

// object reads one object: a direct value, or "n g R" as a pdfRef. It returns
// nil at the end of input; keywords other than true/false/null come back as
// pdfKeyword, so the caller sees "stream", "endobj" and operators.
func (l *lexer) object(depth int) any {
	t := l.token()
	switch t := t.(type) {
	case delim:
		if depth >= maxNesting && (t == "[" || t == "<<") {
			l.stopped = true
			return nil
		}
		switch t {
		case "[":
			var arr pdfArray
			for {
				v := l.object(depth + 1)
				if v == nil || v == delim("]") {
					return arr
				}
				if _, isDelim := v.(delim); isDelim {
					continue
				}
				if len(arr) < 1<<16 {
					arr = append(arr, v)
				}
			}
		case "<<":
			d := pdfDict{}
			for {
				k := l.object(depth + 1)
				if k == nil || k == delim(">>") {
					return d
				}
				name, ok := k.(pdfName)
				if !ok {
					continue
				}
				v := l.object(depth + 1)
				if v == nil || v == delim(">>") {
					return d
				}
				if len(d) < 1<<12 {
					d[string(name)] = v
				}
			}
		}
		return t
	case int64:
		// A reference is "num gen R".
		t2 := l.token()
		if g, ok := t2.(int64); ok {
			t3 := l.token()
			if t3 == pdfKeyword("R") && t >= 0 && g >= 0 && t < 1<<31 && g < 1<<31 {
				return pdfRef{int(t), int(g)}
			}
			l.unread(t3)
		}
		l.unread(t2)
		return t
	case pdfKeyword:
		switch t {
		case "true":
			return true
		case "false":
			return false
		case "null":
			return pdfNull{}
		}
		return t
	}
	return t
}

type pdfNull struct{}

func num(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}
