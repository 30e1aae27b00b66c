package extract

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Piece is one chunk of a document's text: Text is Document.Text[Start:End].
type Piece struct {
	Start, End int
	// Heading is the innermost section heading where the piece's own text
	// (after its overlap) starts, at most MaxHeadingBytes, or empty before the
	// first heading.
	Heading string
	Text    string
}

// MinChunkBytes is the smallest maxBytes Chunk honours; a smaller one is raised
// to it.
const MinChunkBytes = 16

// Chunk splits doc's text into pieces of at most maxBytes bytes, in order:
// along sections first, then paragraphs (blank lines), then sentences and
// lines, then words, and only then at a rune boundary. Each piece but the
// first also repeats up to overlapBytes of the text before it (from a word
// boundary; overlapBytes is held to at most maxBytes/2), so a passage cut
// between two pieces is whole in one of them. Pieces are trimmed of
// surrounding white space and together cover every other byte of the text.
func Chunk(doc *Document, maxBytes, overlapBytes int) []Piece {
	text := doc.Text
	maxBytes = max(maxBytes, MinChunkBytes)
	overlapBytes = max(0, min(overlapBytes, maxBytes/2))
	limit := maxBytes - overlapBytes

	var spans [][2]int
	for _, r := range sectionRanges(doc, limit) {
		spans = append(spans, split(text, r[0], r[1], limit, levelParagraph)...)
	}
	pieces := make([]Piece, 0, len(spans))
	prevStart := 0
	for _, sp := range spans {
		own, end := trimSpan(text, sp[0], sp[1])
		if own >= end {
			continue
		}
		start := own
		if len(pieces) > 0 && overlapBytes > 0 {
			start = overlapStart(text, max(prevStart+1, own-overlapBytes, 0), own)
		}
		pieces = append(pieces, Piece{
			Start: start, End: end, Heading: headingAt(doc.Sections, own), Text: text[start:end],
		})
		prevStart = own
	}
	return pieces
}

// sectionRanges cuts the text at section starts; a section shorter than an
// eighth of the limit (a heading followed at once by its subheading) joins the
// next one rather than standing alone.
func sectionRanges(doc *Document, limit int) [][2]int {
	var cuts []int
	last := 0
	for _, s := range doc.Sections {
		if s.Start <= last || s.Start >= len(doc.Text) {
			continue
		}
		if s.Start-last < limit/8 && strings.TrimSpace(doc.Text[last:s.Start]) != "" {
			continue
		}
		cuts = append(cuts, s.Start)
		last = s.Start
	}
	out := make([][2]int, 0, len(cuts)+1)
	start := 0
	for _, c := range cuts {
		out = append(out, [2]int{start, c})
		start = c
	}
	return append(out, [2]int{start, len(doc.Text)})
}

const (
	levelParagraph = iota
	levelSentence
	levelWord
	levelRune
)

// unit is a run of text no longer than the limit, with the strength of the
// boundary before it: the level whose cut made it (lower is stronger).
type unit struct {
	s, e     int
	strength int
}

// split packs text[s:e] into spans of at most limit bytes. It cuts the text
// into atoms at paragraph boundaries, a part too long for limit at sentence
// boundaries, and so on down to runes; then it packs atoms greedily and, when
// a span is full, ends it at the strongest boundary in its second half.
func split(text string, s, e, limit, level int) [][2]int {
	if e-s <= limit {
		return [][2]int{{s, e}}
	}
	atoms := atomize(text, s, e, limit, level, level, nil)
	var out [][2]int
	first := 0 // the open span's first atom
	for first < len(atoms) {
		end := first // one past the last atom that fits
		for end < len(atoms) && atoms[end].e-atoms[first].s <= limit {
			end++
		}
		if end < len(atoms) {
			// Prefer a stronger boundary if it keeps at least half a span.
			best := end
			for k := end - 1; k > first; k-- {
				if atoms[k-1].e-atoms[first].s < limit/2 {
					break
				}
				if atoms[k].strength < atoms[best].strength {
					best = k
				}
			}
			end = best
		}
		out = append(out, [2]int{atoms[first].s, atoms[end-1].e})
		first = end
	}
	return out
}

func atomize(text string, s, e, limit, level, strength int, out []unit) []unit {
	if e-s <= limit {
		return append(out, unit{s, e, strength})
	}
	if level == levelRune {
		for s < e {
			end := min(s+limit, e)
			for end < e && end > s && !utf8.RuneStart(text[end]) {
				end--
			}
			out = append(out, unit{s, end, strength})
			s, strength = end, levelRune
		}
		return out
	}
	for i, part := range parts(text, s, e, level) {
		if i > 0 {
			strength = level
		}
		out = atomize(text, part[0], part[1], limit, level+1, strength, out)
	}
	return out
}

// parts cuts text[s:e] into consecutive parts at level's boundaries; each
// boundary's white space ends the part before it.
func parts(text string, s, e, level int) [][2]int {
	var out [][2]int
	start := s
	for i := s; i < e; {
		r, size := utf8.DecodeRuneInString(text[i:e])
		cut := 0 // length of the boundary at i, cut after it
		switch level {
		case levelParagraph:
			if r == '\n' {
				j := i + 1
				for j < e && (text[j] == ' ' || text[j] == '\t') {
					j++
				}
				if j < e && text[j] == '\n' {
					for j < e && (isSpaceByte(text[j]) || text[j] == '\r') {
						j++
					}
					cut = j - i
				}
			}
		case levelSentence:
			switch r {
			case '\n':
				cut = 1
			case '.', '!', '?', '。':
				j := i + size
				for j < e && strings.IndexByte(`"')]`, text[j]) >= 0 {
					j++
				}
				if j < e && isSpaceByte(text[j]) {
					for j < e && isSpaceByte(text[j]) {
						j++
					}
					cut = j - i
				}
			}
		case levelWord:
			if unicode.IsSpace(r) {
				j := i + size
				for j < e && isSpaceByte(text[j]) {
					j++
				}
				cut = j - i
			}
		}
		if cut > 0 {
			if i+cut < e {
				out = append(out, [2]int{start, i + cut})
				start = i + cut
			}
			i += cut
			continue
		}
		i += size
	}
	return append(out, [2]int{start, e})
}

// trimSpan drops white space at both ends of text[s:e].
func trimSpan(text string, s, e int) (int, int) {
	for s < e {
		r, size := utf8.DecodeRuneInString(text[s:e])
		if !unicode.IsSpace(r) {
			break
		}
		s += size
	}
	for e > s {
		r, size := utf8.DecodeLastRuneInString(text[s:e])
		if !unicode.IsSpace(r) {
			break
		}
		e -= size
	}
	return s, e
}

// overlapStart is where an overlap reaching back to from (at most) begins: the
// first word start at or after from, before own; from itself (moved to a rune
// start) when the overlap holds no word boundary.
func overlapStart(text string, from, own int) int {
	for from < own && !utf8.RuneStart(text[from]) {
		from++
	}
	for i := from; i < own; i++ {
		if i > 0 && isSpaceByte(text[i-1]) && !isSpaceByte(text[i]) {
			return i
		}
	}
	if from > 0 && !isSpaceByte(text[from-1]) {
		// Mid-word with no boundary in reach: no overlap rather than half a word.
		return own
	}
	s, _ := trimSpan(text, from, own)
	return s
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\n' || c == '\t' }

// headingAt is the heading of the last section starting at or before offset
// (sections run from one heading to the next, so that one holds it), cut to
// MaxHeadingBytes.
func headingAt(sections []Section, offset int) string {
	heading := ""
	for _, s := range sections {
		if s.Start > offset {
			break
		}
		heading = s.Heading
	}
	return clip(heading, MaxHeadingBytes)
}
