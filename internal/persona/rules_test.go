package persona_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/persona"
	"github.com/inkgraph/inkgraph/models"
)

func generate(t *testing.T, in persona.Input) *models.PersonaDraft {
	t.Helper()
	d, err := persona.NewGenerator(nil, nil).Generate(t.Context(), in)
	require.NoError(t, err)
	requireBounded(t, d)
	return d
}

// toned is business-only input: a requested tone and an industry, nothing measured.
func toned(tone models.WritingTone, industry string) persona.Input {
	return persona.Input{
		Business:    &models.BusinessInfo{BusinessName: "Northwind", Description: "A small company.", Industry: industry},
		Preferences: &models.ResearchPreferences{WritingTone: tone},
	}
}

// measured is a website measured with the given signals and nothing else.
func measured(sig models.ToneSignals) *models.WebsiteAnalysis {
	return &models.WebsiteAnalysis{URL: "https://site.example", Title: "Site", WordCount: 800, Tone: sig}
}

func TestArchetype(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   persona.Input
		want string
	}{
		{"authoritative law firm", toned("AUTHORITATIVE", "Legal services"), "The Expert"},
		{"friendly bakery", toned("FRIENDLY", "Bakery"), "The Friend"},
		{"conversational, no industry", toned("CONVERSATIONAL", ""), "The Friend"},
		{"technical software", toned("TECHNICAL", "B2B software"), "The Innovator"},
		{"technical without tech industry", toned("TECHNICAL", ""), "The Expert"},
		{"inspirational travel", toned("INSPIRATIONAL", "Travel"), "The Storyteller"},
		{"inspirational fitness", toned("INSPIRATIONAL", "Fitness coaching"), "The Motivator"},
		{"playful", toned("PLAYFUL", ""), "The Entertainer"},
		{"professional education", toned("PROFESSIONAL", "Online education"), "The Guide"},
		{"professional finance", toned("PROFESSIONAL", "Finance"), "The Expert"},
		// "ai" inside "retail" must not count as an AI industry, or Innovator would win.
		{"whole words only", toned("TECHNICAL", "Retail"), "The Expert"},
		{"nothing points anywhere", toned("", ""), "The Guide"},
		{"site tone without a requested tone", persona.Input{
			Website:     measured(models.ToneSignals{Formality: "CASUAL", Labels: []string{"conversational", "friendly"}, AvgSentenceLength: 9}),
			Preferences: &models.ResearchPreferences{},
		}, "The Friend"},
		{"formal, difficult site", persona.Input{
			Website: &models.WebsiteAnalysis{
				URL: "https://firm.example", WordCount: 900, ReadingLevel: models.ReadingLevel{GradeLevel: 14},
				Tone: models.ToneSignals{Formality: "FORMAL", Labels: []string{"authoritative"}},
			},
			Preferences: &models.ResearchPreferences{},
		}, "The Expert"},
		{"exclamations", persona.Input{
			Website:     measured(models.ToneSignals{ExclamationRatio: 0.3, Labels: []string{"fun"}}),
			Preferences: &models.ResearchPreferences{},
		}, "The Entertainer"},
		{"the example business", richInput(), "The Expert"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := generate(t, tc.in)
			require.Equal(t, tc.want, d.Core.Archetype)
			require.Contains(t, d.Core.Summary, "speaks as "+strings.ToLower(tc.want))
		})
	}

	t.Run("a default archetype is noted", func(t *testing.T) {
		t.Parallel()
		d := generate(t, toned("", ""))
		require.Contains(t, d.Quality.Notes, "nothing pointed to a particular archetype; The Guide is a neutral default")
	})
}

func TestVoice(t *testing.T) {
	t.Parallel()
	withStyleVoice := measured(models.ToneSignals{FirstPersonPlural: 0.03})
	withStyleVoice.Style = &models.StyleAnalysis{Tone: "warm", Voice: "first person singular, warm and candid"}

	for _, tc := range []struct {
		name     string
		in       persona.Input
		voice    []string
		opening  string // what the sample opening speaks as
		specific bool   // whether the voice came from the user's data
	}{
		{
			"we, to you",
			persona.Input{Website: measured(models.ToneSignals{FirstPersonPlural: 0.03, SecondPersonRatio: 0.03}), Preferences: &models.ResearchPreferences{WritingTone: "AUTHORITATIVE"}},
			[]string{`First person plural ("we", "our")`, `directly as "you"`}, " we ", true,
		},
		{
			"I, rarely you",
			persona.Input{Website: measured(models.ToneSignals{FirstPersonPlural: 0.001, SecondPersonRatio: 0.002}), Preferences: &models.ResearchPreferences{WritingTone: "AUTHORITATIVE"}},
			[]string{`First person singular ("I", "my")`, `using "you" sparingly`}, " I ", true,
		},
		{
			"at the thresholds",
			persona.Input{Website: measured(models.ToneSignals{FirstPersonPlural: 0.01, SecondPersonRatio: 0.015}), Preferences: &models.ResearchPreferences{WritingTone: "AUTHORITATIVE"}},
			[]string{"First person plural", `directly as "you"`}, " we ", true,
		},
		{
			"nothing measured: a business speaks as we",
			toned("AUTHORITATIVE", ""),
			[]string{"First person plural", `directly as "you"`}, " we ", false,
		},
		{
			"the style analysis decides",
			persona.Input{Website: withStyleVoice, Preferences: &models.ResearchPreferences{WritingTone: "AUTHORITATIVE"}},
			[]string{"First person singular, warm and candid."}, " I ", true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := generate(t, tc.in)
			for _, s := range tc.voice {
				require.Contains(t, d.Core.Voice, s)
			}
			require.Contains(t, d.Core.SampleOpening, tc.opening)
			if tc.specific {
				require.NotContains(t, d.Quality.Notes, "no website analysis; tone, vocabulary and sentence style were not measured")
			}
		})
	}
}

func TestAudience(t *testing.T) {
	t.Parallel()
	const generic = "no target audience given; a generic one was used"
	noPrefsAudience := prefs()
	noPrefsAudience.TargetAudience = "  "
	noBizAudience := business()
	noBizAudience.TargetAudience = ""
	withStyle := website()
	withStyle.Style = style()

	for _, tc := range []struct {
		name  string
		in    persona.Input
		want  string
		noted bool
	}{
		{"preferences first", richInput(), "owners of small businesses in the UK", false},
		{"then the business", persona.Input{Business: business(), Preferences: noPrefsAudience}, "small business owners", false},
		{"then the style analysis", persona.Input{Website: withStyle, Business: noBizAudience, Preferences: noPrefsAudience}, "busy founders", false},
		{"then the industry", persona.Input{Business: noBizAudience, Preferences: noPrefsAudience}, "people looking for help with accounting software", true},
		{"else a generic one", toned("", ""), "potential customers and curious readers new to the subject", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := generate(t, tc.in)
			require.Equal(t, tc.want, d.Core.Audience)
			require.Contains(t, d.Core.Summary, tc.want)
			if tc.noted {
				require.Contains(t, d.Quality.Notes, generic)
			} else {
				require.NotContains(t, d.Quality.Notes, generic)
			}
		})
	}
}

func TestCoreFromSignals(t *testing.T) {
	t.Parallel()
	d := generate(t, persona.Input{Website: website(), Business: business(), Preferences: prefs()})
	c := d.Core
	require.Equal(t, "Acme Ledger Voice", c.Name)
	// The user's products and industry first, then the site's terms by frequency,
	// eight in all.
	require.Equal(t, []string{"Acme Invoices", "Acme Payroll", "Accounting software", "invoicing", "payroll", "tax", "small business", "cash flow"}, c.KeyTopics)
	require.Equal(t, []string{"professional", "clear", "informative"}, c.Tone)
	require.True(t, strings.HasPrefix(c.VocabularyLevel, "Intermediate"), c.VocabularyLevel)
	require.Contains(t, c.VocabularyLevel, "grade 10.4")
	require.True(t, strings.HasPrefix(c.SentenceStyle, "Balanced: about 14 words"), c.SentenceStyle)
	require.Contains(t, c.Do, "Back claims with sources, figures and dates")
	require.Contains(t, c.Do, "End with a clear call to action in the site's own words, such as “Start free trial”")
	require.Contains(t, c.Do, "Tie content back to the goal: grow trial sign-ups")
	require.Contains(t, c.Dont, "Don't state figures or claims you can't source")
	require.Equal(t, "After years of working on Acme Invoices, here is what we have learned actually makes a difference.", c.SampleOpening)
	require.Equal(t, "Acme Ledger speaks as the expert to owners of small businesses in the UK: professional, clear and informative, writing mostly about Acme Invoices, Acme Payroll and Accounting software.", c.Summary)

	for _, tc := range []struct {
		name string
		w    *models.WebsiteAnalysis
		want string
	}{
		{"title after a generic segment", &models.WebsiteAnalysis{URL: "https://x.example", Title: "Home | Bright Owl Studio", Description: "d"}, "Bright Owl Studio Voice"},
		{"site name wins over the title", &models.WebsiteAnalysis{URL: "https://x.example", Title: "Bright Owl", Description: "d", Brand: &models.Brand{SiteName: "Bright Owl Ltd"}}, "Bright Owl Ltd Voice"},
		{"a slogan is no name: the host", &models.WebsiteAnalysis{URL: "https://www.brightowl.example/", Title: "We design brands that people remember for years", Description: "d"}, "brightowl.example Voice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := generate(t, persona.Input{Website: tc.w, Preferences: &models.ResearchPreferences{}})
			require.Equal(t, tc.want, d.Core.Name)
		})
	}
}

func TestToneAndConsistency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		tone        models.WritingTone
		site        models.ToneSignals
		siteLang    string
		wantTone    []string
		consistency float64
		note        string
	}{
		{
			"agreement", "PROFESSIONAL",
			models.ToneSignals{Formality: "FORMAL", Labels: []string{"professional"}}, "en",
			[]string{"professional", "clear", "formal"}, 100, "",
		},
		{
			"friendly asked, formal site", "FRIENDLY",
			models.ToneSignals{Formality: "FORMAL", Labels: []string{"formal", "corporate"}}, "en",
			[]string{"friendly", "warm"}, 33.3, "you asked for a friendly tone but the website reads as formal; the persona follows your choice",
		},
		{
			"labels clash and agree", "PLAYFUL",
			models.ToneSignals{Formality: "NEUTRAL", Labels: []string{"humorous", "technical"}}, "",
			[]string{"playful", "witty", "humorous"}, 50, "the website's tone (technical) clashes with the playful tone you asked for; the persona follows your choice",
		},
		{
			"other language", "PROFESSIONAL",
			models.ToneSignals{Formality: "NEUTRAL", Labels: []string{"promotional"}}, "de-DE",
			[]string{"professional", "clear", "persuasive"}, 58.3, "your preferred language (en) differs from the website's (de)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := measured(tc.site)
			w.Language = tc.siteLang
			d := generate(t, persona.Input{Website: w, Preferences: &models.ResearchPreferences{WritingTone: tc.tone, Language: "en"}})
			require.Equal(t, tc.wantTone, d.Core.Tone)
			require.Equal(t, tc.consistency, d.Quality.Consistency)
			if tc.note != "" {
				require.Contains(t, d.Quality.Notes, tc.note)
			}
		})
	}
}

func TestQuality(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                                          string
		in                                            persona.Input
		completeness, specificity, consistency, total float64
		notes                                         []string
	}{
		{"everything", richInput(), 100, 100, 100, 100, nil},
		{
			"the least that is ready",
			persona.Input{Business: &models.BusinessInfo{Description: "We fix bikes."}, Preferences: &models.ResearchPreferences{}},
			10, 0, 100, 29,
			[]string{
				"no website analysis; tone, vocabulary and sentence style were not measured",
				"no business name or site title; a placeholder name was used",
				"no target audience given; a generic one was used",
				"no writing tone chosen; a neutral default was used",
				"no industry given; the archetype rests on other signals",
				"no products and no frequent website terms; key topics could not be drawn from your content",
				"nothing pointed to a particular archetype; The Guide is a neutral default",
				"consistency was not checked: it needs both a requested writing tone and a measured website tone",
			},
		},
		{
			"business and preferences",
			persona.Input{Business: business(), Preferences: prefs()},
			80, 66.7, 100, 80.3,
			[]string{
				"no website analysis; tone, vocabulary and sentence style were not measured",
				"consistency was not checked: it needs both a requested writing tone and a measured website tone",
			},
		},
		{
			"a thin website is noted",
			persona.Input{Website: thinWebsite(), Business: business(), Preferences: prefs()},
			80, 66.7, 100, 80.3,
			[]string{
				"the website analysis of https://thin.example had too little text (12 words) to use; tone, vocabulary and sentence style were not measured",
				"consistency was not checked: it needs both a requested writing tone and a measured website tone",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := generate(t, tc.in).Quality
			require.Equal(t, tc.completeness, q.Completeness)
			require.Equal(t, tc.specificity, q.Specificity)
			require.Equal(t, tc.consistency, q.Consistency)
			require.Equal(t, tc.total, q.Overall)
			if tc.notes == nil {
				tc.notes = []string{}
			}
			require.Equal(t, tc.notes, q.Notes)
		})
	}
}
