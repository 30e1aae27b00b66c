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

// node is a node of a path-compressed trie of the fragments: the edge into it
// carries a whole run of bytes (label), so a prompt's fragments, which share few
// prefixes, take about two nodes each rather than one a byte (a byte trie made
// building the sets a tenth of the server's start, and kept some 370 KB alive).
// Its children are two slices, not a map: most nodes have one or two.
type node struct {
	label    string  // the bytes from the parent to here; empty only at the root
	keys     []byte  // each child's label's first byte
	children []*node // children[i] follows keys[i]
	terminal bool    // a whole fragment ends here
}

// child returns the child whose label starts with b, or nil.
func (n *node) child(b byte) *node {
	if i := bytes.IndexByte(n.keys, b); i >= 0 {
		return n.children[i]
	}
	return nil
}

// add inserts fragment f below n, splitting a label where f leaves it or ends
// inside it, so every fragment ends at a node.
func (n *node) add(f string) {
	for f != "" {
		c := n.child(f[0])
		if c == nil {
			n.keys = append(n.keys, f[0])
			n.children = append(n.children, &node{label: f, terminal: true})
			return
		}
		k := commonPrefix(c.label, f)
		if k < len(c.label) {
			tail := &node{label: c.label[k:], keys: c.keys, children: c.children, terminal: c.terminal}
			c.label, c.keys, c.children, c.terminal = c.label[:k], []byte{tail.label[0]}, []*node{tail}, false
		}
		n, f = c, f[k:]
	}
	n.terminal = true
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// NewSet compiles fragments; empty ones are ignored. Matching is exact.
func NewSet(fragments []string) *Set {
	s := &Set{root: &node{}}
	for _, f := range fragments {
		if f == "" {
			continue
		}
		s.root.add(f)
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
	for n := s.root; i < len(text); {
		n = n.child(text[i])
		if n == nil || !strings.HasPrefix(text[i:], n.label) {
			break
		}
		i += len(n.label)
		if n.terminal {
			end = i
		}
	}
	return end
}

// holdFrom returns the start of the longest tail of text that is a prefix of
// a fragment (len(text) when none is).
func (s *Set) holdFrom(text string) int {
	for i := max(0, len(text)-s.maxLen+1); i < len(text); i++ {
		if s.prefixOfFragment(text[i:]) {
			return i
		}
	}
	return len(text)
}

// prefixOfFragment reports whether t begins some fragment: every node lies on the
// way to one, so t does if its bytes follow the trie to its end, at a node or
// inside a label.
func (s *Set) prefixOfFragment(t string) bool {
	for n := s.root; t != ""; t = t[len(n.label):] {
		n = n.child(t[0])
		switch {
		case n == nil:
			return false
		case len(t) <= len(n.label):
			return strings.HasPrefix(n.label, t)
		case !strings.HasPrefix(t, n.label):
			return false
		}
	}
	return true
}
