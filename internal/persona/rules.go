package persona

import (
	"fmt"
	"strings"

	"github.com/inkgraph/inkgraph/models"
)

// built is what the rules generator made, with what quality scoring needs to know of
// how it was made.
type built struct {
	core      models.CorePersona
	platforms []models.PlatformPersona
	// defaulted lists the core fields holding a default rather than something drawn
	// from the user's data, in field order.
	defaulted []string
}

// scoredFields are the core fields Specificity is measured over.
func scoredFields() []string {
	return []string{"name", "archetype", "tone", "voice", "audience", "vocabularyLevel", "sentenceStyle", "keyTopics", "sampleOpening"}
}

func (b *built) mark(field string, fromData bool) {
	if !fromData {
		b.defaulted = append(b.defaulted, field)
	}
}

// buildRules is the deterministic generator: no maps are ranged over, no clock and
// no randomness, so the same view gives the same persona.
func buildRules(v view, platforms []models.Platform) built {
	var b built
	brand, ok := v.brand()
	b.mark("name", ok)
	arch, ok := v.archetype()
	b.mark("archetype", ok)
	tone, ok := v.toneWords()
	b.mark("tone", ok)
	voice, ok := v.voiceText()
	b.mark("voice", ok)
	audience, ok := v.audience()
	b.mark("audience", ok)
	vocab, ok := v.vocabulary()
	b.mark("vocabularyLevel", ok)
	sentences, ok := v.sentenceStyle()
	b.mark("sentenceStyle", ok)
	topics := v.topics()
	b.mark("keyTopics", len(topics) > 0)
	b.mark("sampleOpening", len(topics) > 0 || (v.biz != nil && clean(v.biz.Industry, 80) != ""))

	plural := v.speaksAsWe()

	name, subject := brand+" Voice", brand
	if brand == "" {
		name, subject = "Your Voice", "This voice"
	}
	summary := fmt.Sprintf("%s speaks as %s to %s: %s", subject, strings.ToLower(arch.name), strings.TrimRight(audience, ".!? "), joinAnd(tone[:min(3, len(tone))]))
	if len(topics) > 0 {
		summary += ", writing mostly about " + joinAnd(topics[:min(3, len(topics))])
	}
	b.core = cleanCore(models.CorePersona{
		Name:            name,
		Archetype:       arch.name,
		Summary:         summary + ".",
		Tone:            tone,
		Voice:           voice,
		Audience:        audience,
		VocabularyLevel: vocab,
		SentenceStyle:   sentences,
		KeyTopics:       topics,
		Do:              v.dos(arch),
		Dont:            v.donts(arch, vocab),
		SampleOpening:   v.opening(arch, topics, plural),
	})
	for _, p := range platforms {
		b.platforms = append(b.platforms, v.platformPersona(p, b.core))
	}
	return b
}

// cleanCore trims every string of c and caps it at maxText runes, and caps every
// list at maxItems; whoever wrote c, what is stored stays bounded.
func cleanCore(c models.CorePersona) models.CorePersona {
	return models.CorePersona{
		Name:            clean(c.Name, maxText),
		Archetype:       clean(c.Archetype, maxText),
		Summary:         clean(c.Summary, maxText),
		Tone:            cleanList(c.Tone, maxItems, maxText),
		Voice:           clean(c.Voice, maxText),
		Audience:        clean(c.Audience, maxText),
		VocabularyLevel: clean(c.VocabularyLevel, maxText),
		SentenceStyle:   clean(c.SentenceStyle, maxText),
		KeyTopics:       cleanList(c.KeyTopics, maxItems, maxText),
		Do:              cleanList(c.Do, maxItems, maxText),
		Dont:            cleanList(c.Dont, maxItems, maxText),
		SampleOpening:   clean(c.SampleOpening, maxText),
	}
}

// archetype is a persona archetype and what points to it.
type archetype struct {
	name       string
	tones      []toneWeight // requested tones that point here
	labels     []string     // words in the site's tone that point here
	industries []string     // phrases in the business's industry that point here
	boost      func(view) int
	opening    [2]string // sample opening speaking as "we", then as "I"; %s is a topic
	do, dont   []string
}

type toneWeight struct {
	tone   models.WritingTone
	weight int
}

// archetypes lists the archetypes; on a tie the earlier one wins, and The Guide,
// first, is the default when nothing points anywhere.
func archetypes() []archetype {
	return []archetype{
		{
			name:       "The Guide",
			tones:      []toneWeight{{toneProfessional, 1}, {toneFriendly, 1}},
			labels:     []string{"instructional", "educational", "helpful", "informative", "explanatory"},
			industries: []string{"education", "coaching", "training", "tutoring", "e learning", "elearning", "school", "course", "courses"},
			boost: func(v view) int {
				s := v.signals()
				n := 0
				if s.SecondPersonRatio >= secondRatio {
					n++
				}
				if s.QuestionRatio >= questionRatio {
					n++
				}
				return n
			},
			opening: [2]string{
				"If you have ever wondered where to start with %s, we will walk you through it step by step.",
				"If you have ever wondered where to start with %s, I will walk you through it step by step.",
			},
			do:   []string{"Explain the why before the how", "Break advice into clear, numbered steps"},
			dont: []string{"Don't assume the reader already knows the basics"},
		},
		{
			name:       "The Expert",
			tones:      []toneWeight{{toneAuthoritative, 3}, {toneTechnical, 2}, {toneProfessional, 2}},
			labels:     []string{"authoritative", "formal", "expert", "professional", "academic"},
			industries: []string{"law", "legal", "finance", "financial", "accounting", "insurance", "consulting", "medical", "healthcare", "health care", "research", "engineering", "banking"},
			boost: func(v view) int {
				n := 0
				if v.formality() == formal {
					n++
				}
				if v.grade() >= 12 {
					n++
				}
				return n
			},
			opening: [2]string{
				"After years of working on %s, here is what we have learned actually makes a difference.",
				"After years of working on %s, here is what I have learned actually makes a difference.",
			},
			do:   []string{"Lead with a clear point of view and back it with evidence", "Use precise terms and concrete numbers"},
			dont: []string{"Don't hedge every statement until it says nothing"},
		},
		{
			name:       "The Friend",
			tones:      []toneWeight{{toneFriendly, 3}, {toneConversational, 3}},
			labels:     []string{"conversational", "friendly", "casual", "warm", "informal", "approachable"},
			industries: []string{"food", "restaurant", "cafe", "bakery", "hospitality", "retail", "pet", "pets", "home", "community", "beauty"},
			boost: func(v view) int {
				if v.formality() == casual {
					return 1
				}
				return 0
			},
			opening: [2]string{
				"Let's be honest: %s can feel like a lot, so we are keeping it simple today.",
				"Let's be honest: %s can feel like a lot, so I am keeping it simple today.",
			},
			do:   []string{"Write the way you would talk to a customer you like", "Share small, human details"},
			dont: []string{"Don't slip into corporate language"},
		},
		{
			name:       "The Innovator",
			tones:      []toneWeight{{toneTechnical, 2}, {toneInspirational, 1}},
			labels:     []string{"innovative", "visionary", "bold", "futuristic", "technical"},
			industries: []string{"software", "saas", "technology", "tech", "ai", "artificial intelligence", "startup", "fintech", "cloud", "data", "cybersecurity", "robotics", "it"},
			opening: [2]string{
				"The way %s works is changing fast, and we think the old playbook is already out of date.",
				"The way %s works is changing fast, and I think the old playbook is already out of date.",
			},
			do:   []string{"Show what is new and why it matters now", "Make bold claims only with a concrete example"},
			dont: []string{"Don't chase buzzwords without explaining them"},
		},
		{
			name:       "The Storyteller",
			tones:      []toneWeight{{toneInspirational, 2}, {toneConversational, 1}},
			labels:     []string{"storytelling", "narrative", "emotional", "personal", "inspirational"},
			industries: []string{"travel", "art", "arts", "design", "fashion", "photography", "nonprofit", "non profit", "charity", "media", "publishing", "film", "music", "wedding", "weddings"},
			opening: [2]string{
				"It all started with a simple question about %s, and the answer changed how we work.",
				"It all started with a simple question about %s, and the answer changed how I work.",
			},
			do:   []string{"Open with a moment, a person or a scene", "Let the story carry the lesson"},
			dont: []string{"Don't bury the story under facts and figures"},
		},
		{
			name:       "The Motivator",
			tones:      []toneWeight{{toneInspirational, 3}},
			labels:     []string{"motivational", "inspiring", "uplifting", "empowering", "encouraging"},
			industries: []string{"fitness", "wellness", "sport", "sports", "personal development", "self improvement", "life coaching", "yoga"},
			opening: [2]string{
				"Every big change in %s starts with one small step, and we want today to be yours.",
				"Every big change in %s starts with one small step, and today can be yours.",
			},
			do:   []string{"Give the reader one thing to do today", "Celebrate progress, not just results"},
			dont: []string{"Don't shame or lecture the reader"},
		},
		{
			name:       "The Entertainer",
			tones:      []toneWeight{{tonePlayful, 3}},
			labels:     []string{"playful", "humorous", "witty", "fun", "quirky"},
			industries: []string{"entertainment", "gaming", "games", "toys", "comedy", "events"},
			boost: func(v view) int {
				if v.signals().ExclamationRatio >= exclamationRatio {
					return 1
				}
				return 0
			},
			opening: [2]string{
				"Confession: we think about %s far more than is healthy, so you don't have to.",
				"Confession: I think about %s far more than is healthy, so you don't have to.",
			},
			do:   []string{"Use humour to make a point, not instead of one", "Keep it light and surprising"},
			dont: []string{"Don't joke about the reader's problems"},
		},
	}
}

// archetype chooses the archetype with the most pointing to it; ok is false when
// nothing pointed anywhere and The Guide is a default.
func (v view) archetype() (archetype, bool) {
	all := archetypes()
	tone, _ := v.requestedTone()
	siteTone := words(strings.Join(v.siteTone(), " "))
	industry := v.industry()
	best, bestScore := 0, 0
	for i, a := range all {
		score := 0
		for _, tw := range a.tones {
			if tw.tone == tone {
				score += tw.weight
			}
		}
		labels := 0
		for _, l := range a.labels {
			if hasPhrase(siteTone, l) {
				labels++
			}
		}
		score += min(labels, 2)
		for _, ind := range a.industries {
			if hasPhrase(industry, ind) {
				score += 2
				break
			}
		}
		if a.boost != nil {
			score += a.boost(v)
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return all[best], bestScore > 0
}

// toneAdjectives are what a requested tone contributes to the persona's tone.
func toneAdjectives(t models.WritingTone) []string {
	switch t {
	case toneProfessional:
		return []string{"professional", "clear"}
	case toneFriendly:
		return []string{"friendly", "warm"}
	case toneAuthoritative:
		return []string{"authoritative", "confident"}
	case toneConversational:
		return []string{"conversational", "approachable"}
	case tonePlayful:
		return []string{"playful", "witty"}
	case toneInspirational:
		return []string{"inspiring", "hopeful"}
	case toneTechnical:
		return []string{"technical", "precise"}
	}
	return nil
}

// toneFit lists the site-tone words that agree and that clash with a requested tone;
// a tone not chosen has neither.
func toneFit(t models.WritingTone) (agree, clash []string) {
	switch t {
	case toneProfessional:
		agree, clash = []string{"professional", "formal", "informative", "authoritative", "corporate", "clear"}, []string{"playful", "humorous", "casual", "slang", "silly"}
	case toneFriendly:
		agree, clash = []string{"friendly", "warm", "conversational", "casual", "approachable", "informal"}, []string{"formal", "corporate", "academic", "cold"}
	case toneAuthoritative:
		agree, clash = []string{"authoritative", "formal", "expert", "technical", "informative", "professional", "confident"}, []string{"playful", "casual", "humorous", "silly"}
	case toneConversational:
		agree, clash = []string{"conversational", "casual", "friendly", "informal", "approachable"}, []string{"formal", "academic", "corporate"}
	case tonePlayful:
		agree, clash = []string{"playful", "humorous", "witty", "fun", "casual", "quirky"}, []string{"formal", "academic", "corporate", "technical"}
	case toneInspirational:
		agree, clash = []string{"inspirational", "inspiring", "motivational", "uplifting", "emotional", "empowering"}, []string{"technical", "academic", "dry"}
	case toneTechnical:
		agree, clash = []string{"technical", "precise", "informative", "academic", "formal"}, []string{"playful", "humorous", "promotional", "silly"}
	}
	return agree, clash
}

// formalityFit is how well a measured formality suits a requested tone, 0 to 1.
func formalityFit(t models.WritingTone, f string) float64 {
	switch t {
	case toneProfessional, toneAuthoritative, toneTechnical:
		if f == casual {
			return 0
		}
		return 1
	case toneFriendly:
		if f == formal {
			return 0
		}
		return 1
	case toneConversational, tonePlayful:
		switch f {
		case formal:
			return 0
		case neutral:
			return 0.5
		}
		return 1
	case toneInspirational:
		if f == formal {
			return 0.5
		}
		return 1
	}
	return 1
}

// toneWords is the persona's tone: what the user asked for first, then what the site
// says of itself, leaving out anything that clashes with the request (the user's
// choice wins; Consistency reports the clash).
func (v view) toneWords() ([]string, bool) {
	requested, hasTone := v.requestedTone()
	_, clash := toneFit(requested)
	out := toneAdjectives(requested)
	for _, w := range v.siteTone() {
		ws := words(w)
		clashes := false
		for _, c := range clash {
			clashes = clashes || hasPhrase(ws, c)
		}
		if clashes {
			continue
		}
		if w == "promotional" || w == "salesy" {
			w = "persuasive"
		}
		out = append(out, w)
	}
	if f := v.formality(); f != "" && f != neutral && (!hasTone || formalityFit(requested, f) > 0) {
		out = append(out, strings.ToLower(f))
	}
	out = cleanList(out, 5, 30)
	if len(out) == 0 {
		return []string{"clear", "helpful", "approachable"}, false
	}
	return out, true
}

// speaksAsWe reports whether the persona speaks as "we" rather than "I": the style
// analysis's voice decides when it says, else the measured ratio.
func (v view) speaksAsWe() bool {
	plural, _, _ := v.voice()
	if v.style == nil {
		return plural
	}
	sv := words(v.style.Voice)
	switch {
	case hasPhrase(sv, "singular"):
		return false
	case hasPhrase(sv, "plural") || hasPhrase(sv, "we") || hasPhrase(sv, "our"):
		return true
	case hasPhrase(sv, "i") || hasPhrase(sv, "my"):
		return false
	}
	return plural
}

// voiceText describes person and address.
func (v view) voiceText() (string, bool) {
	if v.style != nil {
		if sv := clean(v.style.Voice, maxText); sv != "" {
			return asSentence(sv), true
		}
	}
	plural, direct, measured := v.voice()
	s := `First person singular ("I", "my")`
	if plural {
		s = `First person plural ("we", "our")`
	}
	if direct {
		s += `, speaking to the reader directly as "you".`
	} else {
		s += `, using "you" sparingly and writing about the reader's situation rather than at them.`
	}
	return s, measured
}

// vocabulary is the persona's vocabulary level, from the site's reading grade when
// measured.
func (v view) vocabulary() (string, bool) {
	if g := v.grade(); g > 0 {
		measured := fmt.Sprintf(" (the site reads at grade %.1f", g)
		if l := clean(v.web.ReadingLevel.Label, 40); l != "" {
			measured += ", " + l
		}
		measured += ")"
		switch {
		case g < 7:
			return "Simple: everyday words and short explanations" + measured, true
		case g < 10:
			return "Plain: everyday words, with any technical term defined on first use" + measured, true
		case g < 13:
			return "Intermediate: industry terms are fine where the context makes them clear" + measured, true
		case g < 16:
			return "Advanced: precise terminology for an informed reader; explain only niche terms" + measured, true
		default:
			return "Expert: dense specialist language; simplify where a wider audience should follow" + measured, true
		}
	}
	if v.style != nil {
		if c := clean(v.style.Complexity, 200); c != "" {
			return asSentence(c), true
		}
	}
	switch t, _ := v.requestedTone(); t {
	case toneTechnical, toneAuthoritative:
		return "Advanced: precise terminology for an informed reader; explain only niche terms", false
	}
	return "Plain: everyday words, with any technical term defined on first use", false
}

// sentenceStyle is the persona's sentence style, from the site's average sentence
// length when measured.
func (v view) sentenceStyle() (string, bool) {
	s := v.signals()
	if n := s.AvgSentenceLength; n > 0 {
		var out string
		switch {
		case n < 12:
			out = fmt.Sprintf("Short and punchy: about %.0f words a sentence on the site; keep most sentences under 15 words", n)
		case n < 18:
			out = fmt.Sprintf("Balanced: about %.0f words a sentence on the site; mix short sentences with longer ones for rhythm", n)
		case n < 25:
			out = fmt.Sprintf("Long-form: about %.0f words a sentence on the site; break up anything over 25 words", n)
		default:
			out = fmt.Sprintf("Dense: about %.0f words a sentence on the site, which is hard going; aim for 15 to 20", n)
		}
		if s.QuestionRatio >= questionRatio {
			out += "; ask the reader questions, as the site does"
		}
		return out, true
	}
	switch t, _ := v.requestedTone(); t {
	case tonePlayful, toneConversational, toneFriendly:
		return "Short and punchy: keep most sentences under 15 words", false
	case toneTechnical, toneAuthoritative:
		return "Measured: 15 to 20 words a sentence, one idea each", false
	}
	return "Balanced: mix short sentences with longer ones, averaging 15 to 20 words", false
}

func (v view) dos(a archetype) []string {
	out := append([]string{}, a.do...)
	switch t, _ := v.requestedTone(); t {
	case toneProfessional:
		out = append(out, "Lead with the point, then support it")
	case toneFriendly, toneConversational:
		out = append(out, "Use contractions and plain, everyday phrasing")
	case toneAuthoritative:
		out = append(out, "State conclusions plainly and cite where they come from")
	case tonePlayful:
		out = append(out, "Play with words, but keep the message clear")
	case toneInspirational:
		out = append(out, "End on what is possible for the reader")
	case toneTechnical:
		out = append(out, "Show the detail: numbers, specifics and examples")
	}
	if v.prefs != nil {
		if v.prefs.FactualContent {
			out = append(out, "Back claims with sources, figures and dates")
		}
		if v.prefs.Depth == models.DepthComprehensive || v.prefs.Depth == models.DepthExpert {
			out = append(out, "Go beyond the basics: include specifics, examples and trade-offs")
		}
	}
	if v.biz != nil {
		if goals := cleanList(v.biz.BusinessGoals, 1, 120); len(goals) > 0 {
			out = append(out, "Tie content back to the goal: "+goals[0])
		}
	}
	if v.style != nil {
		for _, m := range cleanList(v.style.KeyMessages, 2, 160) {
			out = append(out, "Reinforce the key message “"+m+"”")
		}
	}
	if v.measured {
		if cta := cleanList(v.web.Tone.CallToActionPhrases, 1, 60); len(cta) > 0 {
			out = append(out, "End with a clear call to action in the site's own words, such as “"+cta[0]+"”")
		}
	}
	return out
}

func (v view) donts(a archetype, vocabulary string) []string {
	out := append([]string{}, a.dont...)
	switch t, _ := v.requestedTone(); t {
	case toneProfessional, toneAuthoritative, toneTechnical:
		out = append(out, "Don't use slang, memes or exclamation marks")
	case toneFriendly, toneConversational:
		out = append(out, "Don't lecture or talk down to the reader")
	case tonePlayful:
		out = append(out, "Don't let a joke obscure the point")
	case toneInspirational:
		out = append(out, "Don't promise results the reader can't reach")
	}
	if strings.HasPrefix(vocabulary, "Simple") || strings.HasPrefix(vocabulary, "Plain") {
		out = append(out, "Don't use jargon without explaining it")
	}
	if v.prefs != nil && v.prefs.FactualContent {
		out = append(out, "Don't state figures or claims you can't source")
	}
	if hasPhrase(words(strings.Join(v.siteTone(), " ")), "promotional") {
		out = append(out, "Don't turn every piece into a sales pitch")
	}
	return append(out, "Don't overpromise or lean on empty superlatives")
}

// opening is a sample first sentence in the persona's voice.
func (v view) opening(a archetype, topics []string, plural bool) string {
	topic := ""
	if len(topics) > 0 {
		topic = topics[0]
	} else if v.biz != nil {
		topic = strings.ToLower(clean(v.biz.Industry, 80))
	}
	i := 0
	if !plural {
		i = 1
	}
	if topic == "" {
		topic = [2]string{"what we do", "what I do"}[i]
	}
	return upperFirst(fmt.Sprintf(a.opening[i], topic))
}
