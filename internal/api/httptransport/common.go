package httptransport

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
)

// decodeCommon decodes the body nearly every client sends, without decoding it into a
// map first: one JSON object of query (a string) and any of operationName (a string or
// null), variables and extensions (objects or null), each once, keys and strings
// without escapes. Any other body, or one it is unsure of, it leaves to decodeParams's
// full decoding (false), which gives the same parameters for the bodies both accept
// (TestDecodeCommon, FuzzDecodeParams). A map of the members, their keys and
// encoding/json's decoder were about a fifth of the transport's cost for a small
// query.
func decodeCommon(body []byte) (*graphql.RawParams, bool) {
	s := scan{b: body}
	params := &graphql.RawParams{}
	var seen uint8
	if s.space(); !s.take('{') {
		return nil, false
	}
	for more := true; more; {
		s.space()
		key, ok := s.plainString()
		if s.space(); !ok || !s.take(':') {
			return nil, false
		}
		s.space()
		var member uint8
		switch string(key) {
		case "query":
			member = 1
			var q []byte
			q, ok = s.plainString()
			params.Query = string(q)
		case "operationName":
			member = 2
			if !s.null() {
				var name []byte
				name, ok = s.plainString()
				params.OperationName = string(name)
			}
		case "variables":
			member = 4
			params.Variables, ok = s.object()
		case "extensions":
			member = 8
			params.Extensions, ok = s.object()
		default:
			return nil, false
		}
		if !ok || seen&member != 0 {
			return nil, false
		}
		seen |= member
		s.space()
		if more = s.take(','); !more && !s.take('}') {
			return nil, false
		}
	}
	if s.space(); s.i != len(s.b) || seen&1 == 0 {
		return nil, false
	}
	return params, true
}

// scan reads a JSON text from b at i.
type scan struct {
	b []byte
	i int
}

// space skips JSON whitespace.
func (s *scan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// take consumes c if it comes next.
func (s *scan) take(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// null consumes null if it comes next.
func (s *scan) null() bool {
	if bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += len("null")
		return true
	}
	return false
}

// plainString consumes a string and returns its bytes, which are its value: false
// for anything else, and for a string with an escape, a control character or bytes
// that are not UTF-8 (encoding/json would replace those), which are left to
// encoding/json.
func (s *scan) plainString() ([]byte, bool) {
	if !s.take('"') {
		return nil, false
	}
	start, ascii := s.i, true
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, ascii || utf8.Valid(v)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// object consumes null (nil) or an object, decoded as decodeParams decodes one
// (numbers as json.Number); false for anything else or an object encoding/json
// refuses.
func (s *scan) object() (map[string]any, bool) {
	if s.null() {
		return nil, true
	}
	start := s.i
	if !s.take('{') {
		return nil, false
	}
	if s.space(); s.take('}') {
		return map[string]any{}, true
	}
	// The object's end: its brackets counted outside strings; encoding/json then
	// checks what lies between. Decoded apart from the body, the object would be
	// allowed one level of nesting more than encoding/json allows in the whole body:
	// anything deep is left to the full decoding.
	for depth := 1; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '"':
			for s.i++; s.i < len(s.b) && s.b[s.i] != '"'; s.i++ {
				if s.b[s.i] == '\\' {
					s.i++
				}
			}
		case '{', '[':
			if depth++; depth > maxCommonDepth {
				return nil, false
			}
		case '}', ']':
			if depth--; depth == 0 {
				s.i++
				return decodeObject(s.b[start:s.i])
			}
		}
	}
	return nil, false
}

// maxCommonDepth is the deepest nesting of variables or extensions decodeCommon
// decodes; encoding/json refuses a body nested over 10,000 levels.
const maxCommonDepth = 64

// decodeObject decodes raw, which must be one JSON object and nothing more.
func decodeObject(raw []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var object map[string]any
	if dec.Decode(&object) != nil || dec.InputOffset() != int64(len(raw)) {
		return nil, false
	}
	return object, true
}
