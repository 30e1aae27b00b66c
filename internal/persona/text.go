package persona

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a persona holds, whoever wrote it: user data and model answers are
// both unbounded, and a persona is stored and sent to clients whole.
const (
	maxText  = 500 // runes per string
	maxItems = 10  // items per list
)

// clean collapses whitespace (persona strings are single lines) and cuts s to at
// most n runes.
func clean(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n]))
}

// cleanList cleans every item, drops empty ones and case-insensitive repeats, and
// keeps at most n. It never returns nil, so a persona encodes lists as [].
func cleanList(items []string, n, runes int) []string {
	out := []string{}
	for _, it := range items {
		it = clean(it, runes)
		if it == "" || containsFold(out, it) {
			continue
		}
		if len(out) == n {
			break
		}
		out = append(out, it)
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// joinAnd joins items as prose: "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// upperFirst capitalises the first letter of s.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// asSentence capitalises s and ends it with a full stop unless it already ends a
// sentence.
func asSentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	if !strings.ContainsAny(s[len(s)-1:], ".!?") {
		s += "."
	}
	return upperFirst(s)
}

// words lower-cases s and reduces it to its words separated by single spaces, padded
// with a space on each side so that hasPhrase matches whole words only ("ai" must not
// match "retail").
func words(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	return " " + strings.Join(f, " ") + " "
}

// hasPhrase reports whether the padded word string w (from words) contains phrase,
// itself lower-case words separated by single spaces.
func hasPhrase(w, phrase string) bool {
	return strings.Contains(w, " "+phrase+" ")
}

// hashtag turns a topic into a hashtag: "small business" → "#SmallBusiness"; "" when
// nothing usable is left or the tag would be unreadably long.
func hashtag(topic string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(topic, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		b.WriteString(upperFirst(w))
	}
	if b.Len() == 0 || utf8.RuneCountInString(b.String()) > 30 {
		return ""
	}
	return "#" + b.String()
}
