// Package sanitize owns prompt protection for streamed answers: it removes
// known secret fragments (system prompts, tool schemas) from a stream of text
// deltas, even when a fragment arrives split across deltas, holding back only
// the shortest tail that could still become one.
package sanitize

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Set is a compiled set of fragments to remove. It is immutable and safe for
// concurrent use; each stream gets its own Stream.
type Set struct {
	root   *node
	maxLen int
}

// node is a byte trie node: a fragment's prefix. Its children are two slices, not
// a map: most nodes of a prompt's fragments have one child, and a map a node made
// building the sets a tenth of the server's start.
type node struct {
	keys     []byte  // the bytes that continue a fragment from here
	children []*node // children[i] follows keys[i]
	terminal bool    // a whole fragment ends here
}

// child returns the node b leads to from n, or nil.
func (n *node) child(b byte) *node {
	if i := bytes.IndexByte(n.keys, b); i >= 0 {
		return n.children[i]
	}
	return nil
}

// NewSet compiles fragments; empty ones are ignored. Matching is exact.
func NewSet(fragments []string) *Set {
	s := &Set{root: &node{}}
	for _, f := range fragments {
		if f == "" {
			continue
		}
		n := s.root
		for i := 0; i < len(f); i++ {
			c := n.child(f[i])
			if c == nil {
				c = &node{}
				n.keys = append(n.keys, f[i])
				n.children = append(n.children, c)
			}
			n = c
		}
		n.terminal = true
		s.maxLen = max(s.maxLen, len(f))
	}
	return s
}

// Fragments cuts secret texts into the pieces a model is likely to repeat:
// each line, and each sentence of a line, of at least minRunes runes once
// trimmed. Short pieces are left out: removing "Be brief." from every answer
// would mangle ordinary text for no protection.
func Fragments(minRunes int, texts ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if utf8.RuneCountInString(s) >= minRunes && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, t := range texts {
		for _, line := range strings.Split(t, "\n") {
			add(line)
			for _, sentence := range sentences(line) {
				add(sentence)
			}
		}
	}
	return out
}

// sentences splits a line after each '.', '!' or '?' followed by a space.
func sentences(line string) []string {
	var out []string
	start := 0
	for i, r := range line {
		if (r == '.' || r == '!' || r == '?') && i+1 < len(line) && unicode.IsSpace(rune(line[i+1])) {
			out = append(out, line[start:i+1])
			start = i + 1
		}
	}
	if start > 0 {
		out = append(out, line[start:])
	}
	return out
}

// Clean removes every fragment from a whole text.
func (s *Set) Clean(text string) string {
	st := s.NewStream()
	return st.Write(text) + st.Flush()
}

// NewStream starts sanitizing one stream.
func (s *Set) NewStream() *Stream { return &Stream{set: s} }

// Stream sanitizes one stream of deltas. It is not safe for concurrent use.
type Stream struct {
	set *Set
	// pending is raw text held back: it may still begin a fragment, or it
	// ends inside a rune. Its first covered bytes lie inside a fragment that
	// began before it, so they are dropped when it is emitted.
	pending string
	covered int
}

// Write takes the next delta and returns the text that is now safe to emit,
// possibly empty. What it returns can never become part of a fragment,
// whatever follows.
//
// Every byte inside an occurrence of any fragment is removed, so overlapping
// fragments go together, and the result does not depend on how the text was
// cut into deltas. Removal is one pass: text on either side of a removed
// fragment is not searched again as if it were joined.
func (st *Stream) Write(delta string) string {
	raw := st.pending + delta
	safe := st.set.holdFrom(raw)
	// A held tail starts a fragment, so it starts a rune; but a delta may end
	// inside a rune, which waits for the rest of it.
	if safe == len(raw) {
		if i := lastRuneStart(raw); i >= 0 && !utf8.FullRuneInString(raw[i:]) {
			safe = i
		}
	}
	return st.emit(raw, safe)
}

// Flush ends the stream and returns what was held back, less any fragment
// in it: at the end, a prefix of a fragment is not a fragment.
func (st *Stream) Flush() string {
	raw := st.pending
	return st.emit(raw, len(raw))
}

// emit returns raw[:safe] without the bytes inside fragments, and keeps
// raw[safe:] pending.
func (st *Stream) emit(raw string, safe int) string {
	var b strings.Builder
	cover := st.covered // raw[:cover] lies inside a fragment
	for i := 0; i < safe; i++ {
		if end := st.set.matchAt(raw, i); end > cover {
			cover = end
		}
		if i >= cover {
			b.WriteByte(raw[i])
		}
	}
	st.pending = raw[safe:]
	st.covered = max(0, cover-safe)
	return b.String()
}

func lastRuneStart(s string) int {
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			return i
		}
	}
	return -1
}

// matchAt returns the end of the longest fragment starting at i, or -1.
func (s *Set) matchAt(text string, i int) int {
	end := -1
	n := s.root
	for j := i; j < len(text); j++ {
		n = n.child(text[j])
		if n == nil {
			break
		}
		if n.terminal {
			end = j + 1
		}
	}
	return end
}

// holdFrom returns the start of the longest tail of text that is a prefix of
// a fragment (len(text) when none is).
func (s *Set) holdFrom(text string) int {
	for i := max(0, len(text)-s.maxLen+1); i < len(text); i++ {
		n := s.root
		j := i
		for ; j < len(text); j++ {
			n = n.child(text[j])
			if n == nil {
				break
			}
		}
		if j == len(text) {
			return i
		}
	}
	return len(text)
}
