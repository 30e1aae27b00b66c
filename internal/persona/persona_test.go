package persona_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/persona"
	"github.com/inkgraph/inkgraph/models"
)

// Values planted in fields that must never reach the language model.
const (
	plantedUserID     = "user-planted-7f3a"
	plantedBusinessID = "biz-planted-91c2"
)

// website is a well-measured analysis without an LLM style analysis. TopTerms are
// deliberately out of order: generation must sort a copy, never the caller's slice.
func website() *models.WebsiteAnalysis {
	return &models.WebsiteAnalysis{
		UserID:      plantedUserID,
		URL:         "https://acme.example",
		FinalURL:    "https://www.acme.example/",
		Title:       "Home | Acme Ledger",
		Description: "Invoicing and payroll for small businesses.",
		Headings:    []models.Heading{{Level: 1, Text: "Get paid faster"}, {Level: 2, Text: "Payroll without the headache"}, {Level: 3, Text: "FAQ"}},
		WordCount:   1200,
		ReadingLevel: models.ReadingLevel{
			FleschReadingEase: 55, GradeLevel: 10.4, Label: "fairly difficult",
		},
		Language: "en",
		TopTerms: []models.TermCount{
			{Term: "tax", Count: 15}, {Term: "invoicing", Count: 30}, {Term: "payroll", Count: 22},
			{Term: "small business", Count: 12}, {Term: "cash flow", Count: 9}, {Term: "receipts", Count: 8},
			{Term: "vat", Count: 7}, {Term: "bookkeeping", Count: 6}, {Term: "quotes", Count: 5}, {Term: "expenses", Count: 4},
		},
		Tone: models.ToneSignals{
			AvgSentenceLength: 14.2, QuestionRatio: 0.05, ExclamationRatio: 0.02,
			SecondPersonRatio: 0.03, FirstPersonPlural: 0.02, Formality: "NEUTRAL",
			Labels:              []string{"informative", "professional"},
			CallToActionPhrases: []string{"Start free trial"},
		},
	}
}

func business() *models.BusinessInfo {
	return &models.BusinessInfo{
		ID:             plantedBusinessID,
		UserID:         plantedUserID,
		BusinessName:   "Acme Ledger",
		Description:    "Accounting software for small businesses.",
		Industry:       "Accounting software",
		TargetAudience: "small business owners",
		BusinessGoals:  []string{"grow trial sign-ups"},
		Products:       []string{"Acme Invoices", "Acme Payroll"},
	}
}

func prefs() *models.ResearchPreferences {
	return &models.ResearchPreferences{
		UserID:         plantedUserID,
		Depth:          models.DepthStandard,
		ContentTypes:   []models.ContentType{"BLOG_POST", "SOCIAL_POST"},
		FactualContent: true,
		TargetAudience: "owners of small businesses in the UK",
		WritingTone:    "PROFESSIONAL",
		Language:       "en",
	}
}

func style() *models.StyleAnalysis {
	return &models.StyleAnalysis{
		Tone:        "professional and informative",
		Voice:       "first person plural, addressing the reader as you",
		Audience:    "busy founders",
		Complexity:  "moderate",
		KeyMessages: []string{"Get paid faster"},
		Model:       "style-model",
	}
}

// richInput has everything: a measured website with a style analysis, business
// information and preferences.
func richInput() persona.Input {
	w := website()
	w.Style = style()
	return persona.Input{Website: w, Business: business(), Preferences: prefs()}
}

func thinWebsite() *models.WebsiteAnalysis {
	return &models.WebsiteAnalysis{URL: "https://thin.example", Title: "Home", WordCount: 12}
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	const (
		source  = "website analysis or business information"
		prefsIs = "research preferences"
		site    = "website analysis of https://acme.example"
		biz     = "business information"
	)
	descriptionOnly := &models.WebsiteAnalysis{URL: "https://short.example", Description: "A studio for brand design.", WordCount: 20}
	withStyle := website()
	withStyle.Style = style()
	noDescription := business()
	noDescription.Description = " "

	for _, tc := range []struct {
		name    string
		in      persona.Input
		ready   bool
		missing []string
		sources []string
	}{
		{"nothing", persona.Input{}, false, []string{source, prefsIs}, []string{}},
		{"only website", persona.Input{Website: website()}, false, []string{prefsIs}, []string{site}},
		{"only preferences", persona.Input{Preferences: prefs()}, false, []string{source}, []string{prefsIs}},
		{"website and preferences", persona.Input{Website: website(), Preferences: prefs()}, true, []string{}, []string{site, prefsIs}},
		{"business and preferences", persona.Input{Business: business(), Preferences: prefs()}, true, []string{}, []string{biz, prefsIs}},
		{"thin website and preferences", persona.Input{Website: thinWebsite(), Preferences: prefs()}, false, []string{source}, []string{prefsIs}},
		{"business without description", persona.Input{Business: noDescription, Preferences: prefs()}, false, []string{source}, []string{biz, prefsIs}},
		{"empty business", persona.Input{Business: &models.BusinessInfo{ID: "b"}, Preferences: prefs()}, false, []string{source}, []string{prefsIs}},
		{"short website with a description", persona.Input{Website: descriptionOnly, Preferences: prefs()}, true, []string{}, []string{"website analysis of https://short.example", prefsIs}},
		{"style analysis", persona.Input{Website: withStyle, Preferences: prefs()}, true, []string{}, []string{site, prefsIs, "LLM style analysis"}},
		{"thin website saved by business", persona.Input{Website: thinWebsite(), Business: business(), Preferences: prefs()}, true, []string{}, []string{biz, prefsIs}},
		{"everything", richInput(), true, []string{}, []string{site, biz, prefsIs, "LLM style analysis"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := persona.Readiness(tc.in)
			require.Equal(t, tc.ready, r.Ready)
			require.Equal(t, tc.missing, r.Missing)
			require.Equal(t, tc.sources, r.Sources)
		})
	}
}

func TestGenerateNotReady(t *testing.T) {
	t.Parallel()
	noDescription := business()
	noDescription.Description = ""
	for _, tc := range []struct {
		name     string
		in       persona.Input
		contains []string
	}{
		{"nothing", persona.Input{}, []string{"website analysis or business information", "research preferences"}},
		{"no preferences", persona.Input{Website: website()}, []string{"research preferences"}},
		{"no source", persona.Input{Preferences: prefs()}, []string{"website analysis or business information"}},
		{"thin website", persona.Input{Website: thinWebsite(), Preferences: prefs()}, []string{"website analysis or business information", "https://thin.example has too little text (12 words"}},
		{"business without description", persona.Input{Business: noDescription, Preferences: prefs()}, []string{"website analysis or business information", "business information has no description"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			llm := fakeLLM{complete: func(context.Context, string, string) (string, string, error) {
				calls++
				return "", "", errors.New("must not be called")
			}}
			draft, err := persona.NewGenerator(llm, nil).Generate(t.Context(), tc.in)
			require.Nil(t, draft)
			var e *models.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, models.CodeBadUserInput, e.Code)
			require.Equal(t, "persona", e.Field)
			for _, s := range tc.contains {
				require.Contains(t, e.Message, s)
			}
			require.Zero(t, calls, "nothing is asked of the model for inputs that are not ready")
		})
	}
}

func TestValidatePlatforms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		in       []models.Platform
		contains string // "" for valid
	}{
		{"nil: the defaults", nil, ""},
		{"all of them", models.Platforms(), ""},
		{"one", []models.Platform{"X"}, ""},
		{"unknown", []models.Platform{"LINKEDIN", "TIKTOK"}, `unknown platform "TIKTOK"`},
		{"wrong case", []models.Platform{"linkedin"}, `unknown platform "linkedin"`},
		{"empty name", []models.Platform{""}, `unknown platform ""`},
		{"duplicate", []models.Platform{"X", "BLOG", "X"}, "platform X is listed more than once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := persona.ValidatePlatforms(tc.in)
			if tc.contains == "" {
				require.NoError(t, err)
				return
			}
			var e *models.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, models.CodeBadUserInput, e.Code)
			require.Equal(t, "platforms", e.Field)
			require.Contains(t, e.Message, tc.contains)

			in := richInput()
			in.Platforms = tc.in
			draft, err := persona.NewGenerator(nil, nil).Generate(t.Context(), in)
			require.Nil(t, draft)
			require.ErrorAs(t, err, &e)
			require.Equal(t, "platforms", e.Field)
		})
	}
}

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   persona.Input
	}{
		{"everything", richInput()},
		{"website only", persona.Input{Website: website(), Preferences: prefs(), Platforms: models.Platforms()}},
		{"business only", persona.Input{Business: business(), Preferences: prefs(), Platforms: []models.Platform{"X", "NEWSLETTER"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			first, err := persona.NewGenerator(nil, nil).Generate(t.Context(), tc.in)
			require.NoError(t, err)
			second, err := persona.NewGenerator(nil, nil).Generate(t.Context(), tc.in)
			require.NoError(t, err)
			require.True(t, reflect.DeepEqual(first, second))
			a, err := json.Marshal(first)
			require.NoError(t, err)
			b, err := json.Marshal(second)
			require.NoError(t, err)
			require.Equal(t, string(a), string(b))

			require.Equal(t, models.PersonaFromRules, first.Source)
			require.Empty(t, first.Model)
			requireBounded(t, first)
		})
	}

	t.Run("the input is left alone", func(t *testing.T) {
		t.Parallel()
		in := richInput()
		_, err := persona.NewGenerator(nil, nil).Generate(t.Context(), in)
		require.NoError(t, err)
		require.Equal(t, richInput(), in)
	})
}

// TestGenerateConcurrently shares one generator and one input between goroutines:
// under -race it fails if generation writes to either.
func TestGenerateConcurrently(t *testing.T) {
	t.Parallel()
	g := persona.NewGenerator(nil, nil)
	in := richInput()
	in.Platforms = models.Platforms()
	drafts := make([]*models.PersonaDraft, 8)
	var wg sync.WaitGroup
	for i := range drafts {
		wg.Go(func() {
			d, err := g.Generate(t.Context(), in)
			if err == nil {
				drafts[i] = d
			}
		})
	}
	wg.Wait()
	for _, d := range drafts {
		require.Equal(t, drafts[0], d)
		require.NotNil(t, d)
	}
}

func TestDefaultPlatforms(t *testing.T) {
	t.Parallel()
	require.Equal(t, []models.Platform{"BLOG", "LINKEDIN"}, persona.DefaultPlatforms())
	draft, err := persona.NewGenerator(nil, nil).Generate(t.Context(), richInput())
	require.NoError(t, err)
	require.Equal(t, persona.DefaultPlatforms(), draft.SelectedPlatforms)
	require.Len(t, draft.PlatformPersonas, 2)
	for i, p := range draft.SelectedPlatforms {
		require.Equal(t, p, draft.PlatformPersonas[i].Platform)
	}

	in := richInput()
	in.Platforms = []models.Platform{"X", "MEDIUM"}
	draft, err = persona.NewGenerator(nil, nil).Generate(t.Context(), in)
	require.NoError(t, err)
	require.Equal(t, []models.Platform{"X", "MEDIUM"}, draft.SelectedPlatforms)
	require.Equal(t, models.Platform("X"), draft.PlatformPersonas[0].Platform)
	require.Equal(t, models.Platform("MEDIUM"), draft.PlatformPersonas[1].Platform)
}

func TestPlatformFacts(t *testing.T) {
	t.Parallel()
	in := richInput()
	in.Platforms = models.Platforms()
	draft, err := persona.NewGenerator(nil, nil).Generate(t.Context(), in)
	require.NoError(t, err)
	byPlatform := map[models.Platform]models.PlatformPersona{}
	for _, pp := range draft.PlatformPersonas {
		byPlatform[pp.Platform] = pp
	}
	require.Len(t, byPlatform, len(models.Platforms()))

	for _, tc := range []struct {
		platform         models.Platform
		maxLength        int
		ideal            string
		minTags, maxTags int
	}{
		{"X", 280, "71–100 characters", 0, 2},
		{"LINKEDIN", 3000, "1,300–2,000 characters", 3, 5},
		{"FACEBOOK", 63206, "40–80 characters", 0, 2},
		{"INSTAGRAM", 2200, "2,200", 5, 10},
		{"BLOG", 0, "1,500–2,500 words", 0, 0},
		{"MEDIUM", 0, "7-minute read", 0, 0},
		{"NEWSLETTER", 0, "500–1,000 words", 0, 0},
	} {
		t.Run(string(tc.platform), func(t *testing.T) {
			t.Parallel()
			pp, ok := byPlatform[tc.platform]
			require.True(t, ok)
			require.Equal(t, tc.maxLength, pp.MaxLength)
			require.Contains(t, pp.IdealLength, tc.ideal)
			require.GreaterOrEqual(t, pp.Hashtags, tc.minTags)
			require.LessOrEqual(t, pp.Hashtags, tc.maxTags)
			require.Contains(t, []string{"NONE", "SPARING", "FREE"}, pp.EmojiUse)
			require.NotEmpty(t, pp.Tone)
			require.NotEmpty(t, pp.Format)
			require.NotEmpty(t, pp.PostingGuidance)
			require.LessOrEqual(t, len(pp.PostingGuidance), 10)
		})
	}

	// The platform adapts the core tone rather than replacing it.
	require.Contains(t, byPlatform["LINKEDIN"].Tone, "more professional")
	require.Contains(t, byPlatform["X"].Tone, "punchier")
	require.Contains(t, byPlatform["X"].Tone, "Professional and clear")
}

func TestEmojiUse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tone models.WritingTone
		want map[models.Platform]string
	}{
		{"PROFESSIONAL", map[models.Platform]string{"X": "NONE", "LINKEDIN": "NONE", "INSTAGRAM": "SPARING", "BLOG": "NONE", "NEWSLETTER": "NONE"}},
		{"PLAYFUL", map[models.Platform]string{"X": "FREE", "LINKEDIN": "SPARING", "INSTAGRAM": "FREE", "FACEBOOK": "FREE", "BLOG": "NONE", "MEDIUM": "NONE", "NEWSLETTER": "SPARING"}},
		{"INSPIRATIONAL", map[models.Platform]string{"X": "SPARING", "LINKEDIN": "SPARING", "INSTAGRAM": "FREE", "BLOG": "NONE"}},
	} {
		t.Run(string(tc.tone), func(t *testing.T) {
			t.Parallel()
			p := prefs()
			p.WritingTone = tc.tone
			draft, err := persona.NewGenerator(nil, nil).Generate(t.Context(), persona.Input{Business: business(), Preferences: p, Platforms: models.Platforms()})
			require.NoError(t, err)
			for _, pp := range draft.PlatformPersonas {
				if want, ok := tc.want[pp.Platform]; ok {
					require.Equal(t, want, pp.EmojiUse, pp.Platform)
				}
			}
		})
	}
}

// requireBounded checks what every draft owes its readers: strings trimmed and at
// most 500 characters, lists at most 10 items and never nil, scores 0–100 with one
// decimal.
func requireBounded(t *testing.T, d *models.PersonaDraft) {
	t.Helper()
	c := d.Core
	for _, s := range []string{c.Name, c.Archetype, c.Summary, c.Voice, c.Audience, c.VocabularyLevel, c.SentenceStyle, c.SampleOpening} {
		require.NotEmpty(t, s)
		require.LessOrEqual(t, utf8.RuneCountInString(s), 500)
	}
	for _, l := range [][]string{c.Tone, c.KeyTopics, c.Do, c.Dont} {
		require.NotNil(t, l)
		require.LessOrEqual(t, len(l), 10)
	}
	require.NotNil(t, d.Quality.Notes)
	for _, x := range []float64{d.Quality.Completeness, d.Quality.Specificity, d.Quality.Consistency, d.Quality.Overall} {
		require.GreaterOrEqual(t, x, 0.0)
		require.LessOrEqual(t, x, 100.0)
		require.Equal(t, math.Round(x*10)/10, x)
	}
	require.Len(t, d.PlatformPersonas, len(d.SelectedPlatforms))
}
