package extract

import (
	"strings"

	"github.com/inkgraph/inkgraph/internal/platform/lazyregexp"
)

var (
	atxHeading  = lazyregexp.New(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	setextUnder = lazyregexp.New(`^ {0,3}(=+|-+)[ \t]*$`)
	fence       = lazyregexp.New("^ {0,3}(```+|~~~+)")
	thematic    = lazyregexp.New(`^ {0,3}((\*[ \t]*){3,}|(-[ \t]*){3,}|(_[ \t]*){3,})$`)
	refDef      = lazyregexp.New(`^ {0,3}\[[^\]]+\]:\s*\S+`)
	mdImage     = lazyregexp.New(`!\[([^\]]*)\]\([^)]*\)`)
	mdLink      = lazyregexp.New(`\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])`)
	autoLink    = lazyregexp.New(`<((?:https?|mailto):[^>\s]+)>`)
	inlineTag   = lazyregexp.New(`</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>`)
	strongStar  = lazyregexp.New(`\*\*([^*\n]+)\*\*`)
	strongUnder = lazyregexp.New(`(^|\W)__([^_\n]+)__(\W|$)`)
	emStar      = lazyregexp.New(`\*([^*\s][^*\n]*)\*`)
	emUnder     = lazyregexp.New(`(^|\W)_([^_\s][^_\n]*)_(\W|$)`)
	strike      = lazyregexp.New(`~~([^~\n]+)~~`)
	codeSpan    = lazyregexp.New("`+([^`\n]+)`+")
	escaped     = lazyregexp.New(`\\([\\` + "`" + `*_{}\[\]()#+\-.!|~<>])`)
	quotePrefix = lazyregexp.New(`^ {0,3}>[ \t]?`)
)

// markdown reads CommonMark-ish text: ATX and setext headings become sections,
// links and images keep their text, emphasis and code spans lose their marks,
// fenced code is kept as text, reference definitions are dropped.
func markdown(data []byte) (*Document, error) {
	var d builder
	var para []string
	flush := func() {
		if len(para) > 0 {
			d.block(strings.Join(para, "\n"))
			para = para[:0]
		}
	}
	lines := strings.Split(normalize(data), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := fence.FindStringSubmatch(line); m != nil {
			flush()
			marker := m[1]
			var code []string
			for i++; i < len(lines); i++ {
				if strings.HasPrefix(strings.TrimLeft(lines[i], " "), marker[:3]) &&
					strings.Trim(strings.TrimSpace(lines[i]), marker[:1]) == "" {
					break
				}
				code = append(code, lines[i])
			}
			d.block(strings.Join(code, "\n"))
			continue
		}
		for quotePrefix.MatchString(line) {
			line = quotePrefix.ReplaceAllString(line, "")
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			flush()
		case atxHeading.MatchString(line):
			flush()
			m := atxHeading.FindStringSubmatch(line)
			d.heading(len(m[1]), inline(m[2]))
		case setextUnder.MatchString(line) && len(para) > 0:
			// The paragraph's last line is a heading: = for level 1, - for 2.
			text := para[len(para)-1]
			para = para[:len(para)-1]
			flush()
			level := 1
			if strings.HasPrefix(trimmed, "-") {
				level = 2
			}
			d.heading(level, text)
		case thematic.MatchString(line), refDef.MatchString(line):
			flush()
		default:
			para = append(para, inline(trimmed))
		}
	}
	flush()
	return d.document("")
}

// inline strips Markdown's inline markup, keeping the text a reader sees.
func inline(s string) string {
	s = mdImage.ReplaceAllString(s, "$1")
	s = mdLink.ReplaceAllString(s, "$1")
	s = autoLink.ReplaceAllString(s, "$1")
	s = codeSpan.ReplaceAllString(s, "$1")
	s = inlineTag.ReplaceAllString(s, "")
	s = strongStar.ReplaceAllString(s, "$1")
	s = strongUnder.ReplaceAllString(s, "$1$2$3")
	s = emStar.ReplaceAllString(s, "$1")
	s = emUnder.ReplaceAllString(s, "$1$2$3")
	s = strike.ReplaceAllString(s, "$1")
	s = escaped.ReplaceAllString(s, "$1")
	return strings.TrimSpace(s)
}
