package website

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/inkgraph/inkgraph/models"
)

// textStats are the counts the reading level and tone are computed from, over the
// page's prose (menus left out).
type textStats struct {
	words        []string // as written
	lowerWords   []string
	sentences    int
	questions    int
	exclamations int
	syllables    int
}

func analyzeText(blocks []block) textStats {
	var s textStats
	for _, b := range blocks {
		if b.nav {
			continue
		}
		for _, sentence := range splitSentences(b.text) {
			words := tokenize(sentence)
			if len(words) == 0 {
				continue
			}
			s.sentences++
			end := strings.TrimRightFunc(sentence, isClosing)
			end = end[len(strings.TrimRightFunc(end, isTerminator)):]
			switch {
			case strings.ContainsAny(end, "?？"):
				s.questions++
			case strings.ContainsAny(end, "!！"):
				s.exclamations++
			}
			for _, w := range words {
				s.words = append(s.words, w)
				s.lowerWords = append(s.lowerWords, strings.ToLower(w))
				s.syllables += syllables(w)
			}
		}
	}
	return s
}

func isTerminator(r rune) bool {
	switch r {
	case '.', '!', '?', '…', '。', '！', '？':
		return true
	}
	return false
}

// isClosing reports whether r may follow a sentence's final punctuation: `"Go!"`.
func isClosing(r rune) bool {
	switch r {
	case '"', '\'', ')', ']', '”', '’', '»':
		return true
	}
	return false
}

// splitSentences splits a block at terminal punctuation followed by a space or the
// end, so "3.5" and "example.com" stay whole. A block without terminal punctuation, a
// heading or a button, is one sentence.
func splitSentences(text string) []string {
	rs := []rune(text)
	var out []string
	start := 0
	for i := 0; i < len(rs); i++ {
		if !isTerminator(rs[i]) {
			continue
		}
		j := i
		for j+1 < len(rs) && (isTerminator(rs[j+1]) || isClosing(rs[j+1])) {
			j++
		}
		// CJK full stops need no space after them.
		if j+1 == len(rs) || unicode.IsSpace(rs[j+1]) || rs[i] == '。' || rs[i] == '！' || rs[i] == '？' {
			out = append(out, strings.TrimSpace(string(rs[start:j+1])))
			start = j + 1
		}
		i = j
	}
	if rest := strings.TrimSpace(string(rs[start:])); rest != "" {
		out = append(out, rest)
	}
	return out
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// tokenize returns the words of s: runs of letters and digits, joined by inner
// apostrophes and hyphens ("don't", "e-mail"). Typographic apostrophes become '.
func tokenize(s string) []string {
	rs := []rune(s)
	var out []string
	for i := 0; i < len(rs); {
		if !isWordRune(rs[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(rs) {
			if isWordRune(rs[j]) {
				j++
				continue
			}
			if (rs[j] == '\'' || rs[j] == '’' || rs[j] == '-') && j+1 < len(rs) && isWordRune(rs[j+1]) {
				j += 2
				continue
			}
			break
		}
		out = append(out, strings.ReplaceAll(string(rs[i:j]), "’", "'"))
		i = j
	}
	return out
}

// syllables estimates an English word's syllables: vowel groups, less a silent final
// e and an unvoiced -ed or -es. It is wrong for some words and right enough on average,
// which is all a readability score needs.
func syllables(word string) int {
	var w []rune
	for _, r := range strings.ToLower(word) {
		if unicode.IsLetter(r) {
			w = append(w, r)
		}
	}
	if len(w) <= 3 {
		return 1
	}
	n := len(w)
	switch {
	case w[n-2] == 'e' && w[n-1] == 'd' && w[n-3] != 't' && w[n-3] != 'd':
		w = w[:n-2]
	case w[n-2] == 'e' && w[n-1] == 's' && !strings.ContainsRune("laeiouysxzh", w[n-3]):
		w = w[:n-2]
	case w[n-1] == 'e' && !strings.ContainsRune("laeiouy", w[n-2]):
		w = w[:n-1]
	}
	if len(w) > 0 && w[0] == 'y' {
		w = w[1:]
	}
	count, inVowel := 0, false
	for _, r := range w {
		v := isVowel(r)
		if v && !inVowel {
			count++
		}
		inVowel = v
	}
	return max(count, 1)
}

func isVowel(r rune) bool {
	return strings.ContainsRune("aeiouyàáâãäåæèéêëìíîïòóôõöøœùúûüýÿ", r)
}

func (s textStats) readingLevel() models.ReadingLevel {
	if len(s.words) == 0 || s.sentences == 0 {
		return models.ReadingLevel{}
	}
	wordsPerSentence := float64(len(s.words)) / float64(s.sentences)
	syllablesPerWord := float64(s.syllables) / float64(len(s.words))
	// The scores run off their scales on lists of one-word fragments; clamping keeps
	// the band meaningful.
	ease := round(clamp(206.835-1.015*wordsPerSentence-84.6*syllablesPerWord, 0, 100), 1)
	grade := round(max(0.39*wordsPerSentence+11.8*syllablesPerWord-15.59, 0), 1)
	return models.ReadingLevel{FleschReadingEase: ease, GradeLevel: grade, Label: easeLabel(ease)}
}

func easeLabel(ease float64) string {
	switch {
	case ease >= 90:
		return "very easy"
	case ease >= 80:
		return "easy"
	case ease >= 70:
		return "fairly easy"
	case ease >= 60:
		return "plain English"
	case ease >= 50:
		return "fairly difficult"
	case ease >= 30:
		return "difficult"
	}
	return "very difficult"
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// Word lists for the tone signals. They are read-only.
var (
	secondPerson = wordSet("you your yours yourself yourselves you're you've you'll you'd y'all")
	firstPlural  = wordSet("we our ours us ourselves we're we've we'll we'd let's")
	contractions = wordSet("it's that's let's what's there's here's he's she's who's where's how's")
	promotional  = wordSet("free best save savings offer discount exclusive limited guarantee guaranteed deal deals buy sale bonus instantly amazing ultimate proven powerful unlock boost effortless premium award-winning")
	technical    = wordSet("api apis sdk integration integrations database server servers deploy deployment configure configuration latency infrastructure algorithm algorithms encryption protocol framework developer developers code open-source cloud kubernetes json http webhook webhooks analytics architecture scalable scalability compliance documentation query queries cli runtime backend frontend microservices")
	inspiring    = wordSet("dream dreams inspire inspired inspiring imagine passion passionate purpose journey believe future transform transformation empower empowering potential mission vision together achieve thrive meaningful possible")
)

func wordSet(words string) map[string]bool {
	set := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		set[w] = true
	}
	return set
}

func isContraction(w string) bool {
	if contractions[w] {
		return true
	}
	for _, suffix := range []string{"n't", "'re", "'ve", "'ll", "'d", "'m"} {
		if strings.HasSuffix(w, suffix) {
			return true
		}
	}
	return false
}

// tone measures the signals and reads a formality and labels from them. The
// thresholds are judgement calls tuned on typical marketing, documentation and
// corporate pages.
func (s textStats) tone(ctas []string) models.ToneSignals {
	t := models.ToneSignals{Formality: "NEUTRAL", Labels: []string{}, CallToActionPhrases: ctas}
	n := len(s.words)
	if n == 0 || s.sentences == 0 {
		return t
	}
	var second, plural, contracted, promo, tech, inspire int
	for i, w := range s.lowerWords {
		switch {
		case secondPerson[w]:
			second++
		case firstPlural[w] && s.words[i] != "US": // the country, not the company
			plural++
		}
		if isContraction(w) {
			contracted++
		}
		if promotional[w] {
			promo++
		}
		if technical[w] {
			tech++
		}
		if inspiring[w] {
			inspire++
		}
	}
	words, sentences := float64(n), float64(s.sentences)
	t.AvgSentenceLength = round(words/sentences, 1)
	t.QuestionRatio = round(float64(s.questions)/sentences, 3)
	t.ExclamationRatio = round(float64(s.exclamations)/sentences, 3)
	t.SecondPersonRatio = round(float64(second)/words, 3)
	t.FirstPersonPlural = round(float64(plural)/words, 3)

	contractionRatio := float64(contracted) / words
	casual, formal := 0, 0
	switch {
	case contractionRatio >= 0.01:
		casual++
	case contracted == 0:
		formal++
	}
	if t.ExclamationRatio >= 0.1 {
		casual++
	}
	switch {
	case t.SecondPersonRatio >= 0.03:
		casual++
	case t.SecondPersonRatio < 0.005:
		formal++
	}
	switch {
	case t.AvgSentenceLength < 12:
		casual++
	case t.AvgSentenceLength >= 20:
		formal++
	}
	switch {
	case casual-formal >= 2:
		t.Formality = "CASUAL"
	case formal-casual >= 2:
		t.Formality = "FORMAL"
	}

	if t.Formality == "CASUAL" || t.SecondPersonRatio >= 0.02 && (contracted > 0 || t.QuestionRatio >= 0.15) {
		t.Labels = append(t.Labels, "conversational")
	}
	if float64(promo)/words >= 0.02 || len(ctas) >= 2 || t.ExclamationRatio >= 0.2 {
		t.Labels = append(t.Labels, "promotional")
	}
	if float64(tech)/words >= 0.02 {
		t.Labels = append(t.Labels, "technical")
	}
	if float64(inspire)/words >= 0.015 {
		t.Labels = append(t.Labels, "inspirational")
	}
	if t.QuestionRatio >= 0.15 {
		t.Labels = append(t.Labels, "question-led")
	}
	return t
}

// ctaPhrases are calls to action, longer phrases before the shorter ones they start
// with, so "sign up free" is found as itself rather than as "sign up".
var ctaPhrases = [][]string{
	strings.Fields("start your free trial"),
	strings.Fields("start free trial"),
	strings.Fields("sign up free"),
	strings.Fields("sign up"),
	strings.Fields("get started"),
	strings.Fields("book a demo"),
	strings.Fields("request a demo"),
	strings.Fields("schedule a demo"),
	strings.Fields("get a demo"),
	strings.Fields("contact us"),
	strings.Fields("contact sales"),
	strings.Fields("talk to sales"),
	strings.Fields("get in touch"),
	strings.Fields("try it free"),
	strings.Fields("try for free"),
	strings.Fields("try it now"),
	strings.Fields("free trial"),
	strings.Fields("buy now"),
	strings.Fields("shop now"),
	strings.Fields("order now"),
	strings.Fields("join now"),
	strings.Fields("join us"),
	strings.Fields("register now"),
	strings.Fields("download now"),
	strings.Fields("get a quote"),
	strings.Fields("see pricing"),
	strings.Fields("view pricing"),
	strings.Fields("subscribe"),
	strings.Fields("learn more"),
}

// callsToAction lists the call-to-action phrases of the page in order of first
// appearance, menus included since that is where sites put "Book a demo".
func callsToAction(blocks []block) []string {
	found := []string{}
	seen := map[string]bool{}
	for _, b := range blocks {
		words := tokenize(strings.ToLower(b.text))
		for i := 0; i < len(words) && len(found) < 10; i++ {
			for _, phrase := range ctaPhrases {
				if i+len(phrase) > len(words) || !slices.Equal(words[i:i+len(phrase)], phrase) {
					continue
				}
				if p := strings.Join(phrase, " "); !seen[p] {
					seen[p] = true
					found = append(found, p)
				}
				i += len(phrase) - 1
				break
			}
		}
	}
	return found
}

// englishStopWords are left out of the top terms.
var englishStopWords = wordSet(`a about above after again against all also am an and any are aren't as at be because
been before being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
down during each every few for from further get gets got had hadn't has hasn't have haven't having he he'd he'll he's
her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself
just let's like make makes many may me more most much must mustn't my myself need new no nor not now of off on once
one only or other ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some
such than that that's the their theirs them themselves then there there's these they they'd they'll they're they've
this those through to too under until up upon us use used using very via was wasn't we we'd we'll we're we've were
weren't what what's when when's where where's which while who who's whom why why's will with within without won't
would wouldn't yet you you'd you'll you're you've your yours yourself yourselves`)

// maxTermRunes is the longest word that can be a top term: longer "words" are
// runs of digits, hashes or filler a page can make as long as it likes, and the
// terms are stored.
const maxTermRunes = 64

// topTerms returns the n most frequent content words, ties in alphabetical order.
func topTerms(lowerWords []string, n int) []models.TermCount {
	counts := map[string]int{}
	for _, w := range lowerWords {
		w = strings.TrimSuffix(w, "'s")
		if runes := utf8.RuneCountInString(w); englishStopWords[w] || runes < 3 || runes > maxTermRunes ||
			!strings.ContainsFunc(w, unicode.IsLetter) {
			continue
		}
		counts[w]++
	}
	terms := make([]models.TermCount, 0, len(counts))
	for term, count := range counts {
		terms = append(terms, models.TermCount{Term: term, Count: count})
	}
	slices.SortFunc(terms, func(a, b models.TermCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Term, b.Term))
	})
	return terms[:min(n, len(terms))]
}

// languageStopWords are frequent function words of each language the guess knows.
var languageStopWords = []struct {
	tag   string
	words map[string]bool
}{
	{"en", wordSet("the and of to is in that it for you with are this on be as your we was have not or by from at can")},
	{"de", wordSet("der die und das ist nicht mit sie den von zu ein eine auf für sich auch dem wir ich es im werden oder sind")},
	{"fr", wordSet("le la les et des est une pour que qui dans pas sur du au avec vous nous ce sont il en plus par")},
	{"es", wordSet("el la los las y es que del por una con para se no un su como más pero lo al son está en de")},
	{"it", wordSet("il la che di è per una non con sono gli del della le un si anche come più ma nel alla ho")},
	{"nl", wordSet("de het een en van is dat niet op te zijn met voor die er ook aan wij je maar bij naar om")},
	{"pt", wordSet("o a os as e que de do da não em um uma para com é se por mais dos das no na você ao")},
}

// guessLanguage picks the language whose function words the text uses most, and
// answers "" when the text is short or no language clearly wins: a wrong language is
// worse than none.
func guessLanguage(lowerWords []string) string {
	if len(lowerWords) < 10 {
		return ""
	}
	best, second, tag := 0, 0, ""
	for _, lang := range languageStopWords {
		hits := 0
		for _, w := range lowerWords {
			if lang.words[w] {
				hits++
			}
		}
		switch {
		case hits > best:
			best, second, tag = hits, best, lang.tag
		case hits > second:
			second = hits
		}
	}
	if best < 3 || float64(best) < 0.1*float64(len(lowerWords)) || float64(best) < 1.5*float64(second) {
		return ""
	}
	return tag
}

// maxLanguageTagLen is the longest language tag kept: RFC 5646 asks implementations
// to take tags of at least 35 characters, and real ones are far shorter.
const maxLanguageTagLen = 35

// normalizeLang turns an <html lang> value into a BCP 47 tag in its usual case
// ("en_us" → "en-US", "zh-hant-tw" → "zh-Hant-TW"), or "" when it is not a tag.
func normalizeLang(lang string) string {
	if len(lang) > maxLanguageTagLen {
		return "" // a tag is stored: one a page makes longer than any real one is none
	}
	parts := strings.Split(strings.ReplaceAll(strings.TrimSpace(lang), "_", "-"), "-")
	if len(parts[0]) < 2 || len(parts[0]) > 3 || !isAlpha(parts[0]) {
		return ""
	}
	for i, p := range parts {
		if p == "" || len(p) > 8 || !isAlnum(p) {
			return ""
		}
		switch {
		case i == 0:
			parts[i] = strings.ToLower(p)
		case len(p) == 4 && isAlpha(p):
			parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
		case len(p) == 2 && isAlpha(p), len(p) == 3 && !isAlpha(p):
			parts[i] = strings.ToUpper(p)
		default:
			parts[i] = strings.ToLower(p)
		}
	}
	return strings.Join(parts, "-")
}

func isAlpha(s string) bool {
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
