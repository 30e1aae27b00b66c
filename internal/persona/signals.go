package persona

import (
	"cmp"
	"math"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/inkgraph/inkgraph/models"
)

// The writing tones of models.WritingTones, named for the rules.
const (
	toneProfessional   models.WritingTone = "PROFESSIONAL"
	toneFriendly       models.WritingTone = "FRIENDLY"
	toneAuthoritative  models.WritingTone = "AUTHORITATIVE"
	toneConversational models.WritingTone = "CONVERSATIONAL"
	tonePlayful        models.WritingTone = "PLAYFUL"
	toneInspirational  models.WritingTone = "INSPIRATIONAL"
	toneTechnical      models.WritingTone = "TECHNICAL"
)

// Measured formality, as ToneSignals.Formality spells it.
const (
	formal  = "FORMAL"
	neutral = "NEUTRAL"
	casual  = "CASUAL"
)

// Thresholds on the website's measured ratios. FirstPersonPlural is we/our/us per
// word: about one word in a hundred is a site that speaks as a team, where a personal
// or third-person site stays near zero. SecondPersonRatio is judged the same way.
const (
	pluralRatio      = 0.01
	secondRatio      = 0.015
	questionRatio    = 0.1 // a tenth of sentences are questions
	exclamationRatio = 0.1
)

// requestedTone is the tone the user asked for, if it is one of the known tones.
func (v view) requestedTone() (models.WritingTone, bool) {
	if v.prefs == nil {
		return "", false
	}
	t := models.WritingTone(strings.ToUpper(strings.TrimSpace(string(v.prefs.WritingTone))))
	if !slices.Contains(models.WritingTones(), t) {
		return "", false
	}
	return t, true
}

// formality is the website's measured formality, "" when not measured.
func (v view) formality() string {
	if !v.measured {
		return ""
	}
	f := strings.ToUpper(strings.TrimSpace(v.web.Tone.Formality))
	if f == formal || f == neutral || f == casual {
		return f
	}
	return ""
}

// signals are the website's measured tone signals; zero when not measured.
func (v view) signals() models.ToneSignals {
	if !v.measured {
		return models.ToneSignals{}
	}
	s := v.web.Tone
	s.AvgSentenceLength = finite(s.AvgSentenceLength)
	s.QuestionRatio = finite(s.QuestionRatio)
	s.ExclamationRatio = finite(s.ExclamationRatio)
	s.SecondPersonRatio = finite(s.SecondPersonRatio)
	s.FirstPersonPlural = finite(s.FirstPersonPlural)
	return s
}

// siteLabels are the website's measured tone labels, lower case, limited to short
// adjective-like phrases since they end up in the persona's tone.
func (v view) siteLabels() []string {
	if !v.measured {
		return []string{}
	}
	var out []string
	for _, l := range v.web.Tone.Labels {
		l = strings.ToLower(clean(l, maxText))
		if l == "" || len([]rune(l)) > 30 || strings.IndexFunc(l, func(r rune) bool {
			return !unicode.IsLetter(r) && r != ' ' && r != '-'
		}) >= 0 {
			continue
		}
		out = append(out, l)
	}
	return cleanList(out, maxItems, 30)
}

// styleTone splits the LLM style analysis's tone ("friendly, professional and a
// little playful") into short phrases.
func (v view) styleTone() []string {
	if v.style == nil {
		return []string{}
	}
	t := strings.ToLower(v.style.Tone)
	for _, sep := range []string{" and ", ";", "/", "&", "."} {
		t = strings.ReplaceAll(t, sep, ",")
	}
	var out []string
	for _, p := range strings.Split(t, ",") {
		p = clean(p, 30)
		if p != "" && len(strings.Fields(p)) <= 3 {
			out = append(out, p)
		}
	}
	return cleanList(out, maxItems, 30)
}

// siteTone is everything the website says of its own tone.
func (v view) siteTone() []string {
	return cleanList(append(v.styleTone(), v.siteLabels()...), maxItems*2, 30)
}

// industry is the business's industry as padded words, for hasPhrase.
func (v view) industry() string {
	if v.biz == nil {
		return words("")
	}
	return words(v.biz.Industry)
}

// brand is the name the business goes by, "" when nothing says.
func (v view) brand() (string, bool) {
	if v.biz != nil {
		if n := clean(v.biz.BusinessName, 80); n != "" {
			return n, true
		}
	}
	if v.web != nil {
		if v.web.Brand != nil {
			if n := clean(v.web.Brand.SiteName, 80); n != "" {
				return n, true
			}
		}
		if n := titleName(v.web.Title); n != "" {
			return n, true
		}
		if h := host(v.web.URL); h != "" {
			return h, true
		}
		if h := host(v.web.FinalURL); h != "" {
			return h, true
		}
	}
	return "", false
}

// titleName picks a brand out of a page title: "Home | Acme Analytics" → "Acme
// Analytics". A segment of more than five words is a slogan, not a name.
func titleName(title string) string {
	t := clean(title, maxText)
	for _, sep := range []string{" | ", " - ", " – ", " — ", " · ", " :: ", ": "} {
		t = strings.ReplaceAll(t, sep, "|")
	}
	for _, seg := range strings.Split(t, "|") {
		seg = clean(seg, 80)
		switch strings.ToLower(seg) {
		case "", "home", "homepage", "home page", "welcome", "official site", "official website":
			continue
		}
		if len(strings.Fields(seg)) > 5 {
			return ""
		}
		return seg
	}
	return ""
}

// host is the site's host name without "www.", "" when raw is not a URL.
func host(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return clean(strings.TrimPrefix(strings.ToLower(u.Hostname()), "www."), 80)
}

// audience is who the persona writes for, and whether the user's data said so.
func (v view) audience() (string, bool) {
	if v.prefs != nil {
		if a := clean(v.prefs.TargetAudience, maxText); a != "" {
			return a, true
		}
	}
	if v.biz != nil {
		if a := clean(v.biz.TargetAudience, maxText); a != "" {
			return a, true
		}
	}
	if v.style != nil {
		if a := clean(v.style.Audience, maxText); a != "" {
			return a, true
		}
	}
	if v.biz != nil {
		if ind := clean(v.biz.Industry, 80); ind != "" {
			return "people looking for help with " + strings.ToLower(ind), false
		}
	}
	return "potential customers and curious readers new to the subject", false
}

// topics are the persona's key topics: the business's products and industry first
// (the user wrote them), then the website's most frequent terms.
func (v view) topics() []string {
	var out []string
	if v.biz != nil {
		out = append(out, v.biz.Products...)
		out = append(out, v.biz.Industry)
	}
	out = append(out, v.topTerms()...)
	return cleanList(out, 8, 80)
}

// topTerms are the website's frequent terms, most frequent first; none unless
// measured.
func (v view) topTerms() []string {
	if !v.measured {
		return []string{}
	}
	terms := slices.Clone(v.web.TopTerms)
	slices.SortStableFunc(terms, func(a, b models.TermCount) int { return cmp.Compare(b.Count, a.Count) })
	out := make([]string, 0, len(terms))
	for _, t := range terms {
		out = append(out, t.Term)
	}
	return cleanList(out, 20, 80)
}

// plural reports whether the persona speaks as "we", and direct whether it addresses
// the reader as "you"; measured says whether the website decided it.
func (v view) voice() (plural, direct, measured bool) {
	if !v.measured {
		// A business or an organisation's site: "we" to "you" is the safe default.
		return true, true, false
	}
	s := v.signals()
	return s.FirstPersonPlural >= pluralRatio, s.SecondPersonRatio >= secondRatio, true
}

// grade is the website's Flesch–Kincaid grade, 0 when not measured.
func (v view) grade() float64 {
	if !v.measured {
		return 0
	}
	return finite(v.web.ReadingLevel.GradeLevel)
}

// finite is x, or 0 when x is not a number or infinite: a broken measurement is no
// measurement.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}
