package website_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/onboarding/website"
	"github.com/inkgraph/inkgraph/models"
)

const productPage = `<!DOCTYPE html>
<html lang="en_us">
<head>
<meta charset="utf-8">
<title>  Acme   Notes — Write better </title>
<meta name="description" content="Acme Notes helps teams write clear docs.">
<meta property="og:title" content="Not the title">
<meta property="og:site_name" content="Acme">
<meta name="theme-color" content="#FFF">
<link rel="icon" href="/favicon.ico">
<link rel="apple-touch-icon" href="/apple.png">
<style>
/* #abcdef in a comment is not a colour */
body { color: #333; font-family: "Inter", sans-serif; }
#fade { background: rgb(255, 0, 0); }
@media (min-width: 600px) { h1 { color: #333333; font-family: Georgia, serif } }
code { font-family: monospace; }
</style>
<script>var x = "script words never count";</script>
</head>
<body>
<nav><a href="/">Home</a> <a href="/signup">Sign up</a> <h2>Menu</h2></nav>
<main>
<h1>Write   better
 notes</h1>
<p style="color: #FF0000">Notes are where ideas start. Write your notes with <b>Acme</b>!</p>
<h2>Why teams love notes</h2>
<p>Do you share notes with your team? Acme keeps every note in one place.</p>
<h3>Get started</h3>
<p hidden>Hidden words never count.</p>
<div style="display: none">Neither do these.</div>
<button>Book a demo</button>
<noscript>Enable JavaScript</noscript>
<svg><title>icon</title><text>svg text</text></svg>
<h4>Not a listed heading</h4>
</main>
</body>
</html>`

const germanPage = `<html><head>
<meta property="og:title" content="Über uns">
<meta property="og:description" content="Wir sind ein kleines Team.">
</head><body>
<p>Wir sind ein kleines Team aus Berlin und wir schreiben für die Menschen, die mit uns arbeiten.
Das ist nicht immer einfach, aber es macht Spaß.</p>
</body></html>`

func TestExtract(t *testing.T) {
	t.Parallel()
	page, err := url.Parse("https://acme.example/docs/")
	require.NoError(t, err)

	tests := []struct {
		name  string
		doc   string
		brand bool
		check func(t *testing.T, a *models.WebsiteAnalysis)
	}{
		{
			name:  "product page",
			doc:   productPage,
			brand: true,
			check: func(t *testing.T, a *models.WebsiteAnalysis) {
				require.Equal(t, "Acme Notes — Write better", a.Title)
				require.Equal(t, "Acme Notes helps teams write clear docs.", a.Description)
				require.Equal(t, []models.Heading{
					{Level: 1, Text: "Write better notes"},
					{Level: 2, Text: "Why teams love notes"},
					{Level: 3, Text: "Get started"},
				}, a.Headings)
				require.Equal(t, 40, a.WordCount)
				require.Equal(t, models.ReadingLevel{FleschReadingEase: 100, GradeLevel: 0.3, Label: "very easy"}, a.ReadingLevel)
				require.Equal(t, "en-US", a.Language)
				require.Equal(t, []models.TermCount{
					{Term: "notes", Count: 5}, {Term: "acme", Count: 2}, {Term: "write", Count: 2},
					{Term: "better", Count: 1}, {Term: "book", Count: 1}, {Term: "demo", Count: 1},
					{Term: "heading", Count: 1}, {Term: "ideas", Count: 1}, {Term: "keeps", Count: 1},
					{Term: "listed", Count: 1}, {Term: "love", Count: 1}, {Term: "note", Count: 1},
					{Term: "place", Count: 1}, {Term: "share", Count: 1}, {Term: "start", Count: 1},
				}, a.TopTerms)
				require.Equal(t, models.ToneSignals{
					AvgSentenceLength:   4.4,
					QuestionRatio:       0.111,
					ExclamationRatio:    0.111,
					SecondPersonRatio:   0.075,
					FirstPersonPlural:   0,
					Formality:           "CASUAL",
					Labels:              []string{"conversational", "promotional"},
					CallToActionPhrases: []string{"sign up", "get started", "book a demo"},
				}, a.Tone)
				require.Equal(t, &models.Brand{
					Colors:     []string{"#333333", "#ff0000"},
					Fonts:      []string{"Inter", "Georgia"},
					ThemeColor: "#ffffff",
					SiteName:   "Acme",
					LogoURL:    "https://acme.example/apple.png",
				}, a.Brand)
			},
		},
		{
			name: "open graph fallbacks and a guessed language",
			doc:  germanPage,
			check: func(t *testing.T, a *models.WebsiteAnalysis) {
				require.Equal(t, "Über uns", a.Title)
				require.Equal(t, "Wir sind ein kleines Team.", a.Description)
				require.Equal(t, []models.Heading{}, a.Headings)
				require.Equal(t, 26, a.WordCount)
				require.Equal(t, "de", a.Language)
				require.Equal(t, "FORMAL", a.Tone.Formality)
				require.Nil(t, a.Brand)
			},
		},
		{
			name: "brand off",
			doc:  productPage,
			check: func(t *testing.T, a *models.WebsiteAnalysis) {
				require.Nil(t, a.Brand)
				require.Equal(t, "Acme Notes — Write better", a.Title)
			},
		},
		{
			name: "too little text to guess a language",
			doc:  `<html><body><p>Hello world.</p></body></html>`,
			check: func(t *testing.T, a *models.WebsiteAnalysis) {
				require.Equal(t, "", a.Language)
				require.Equal(t, 2, a.WordCount)
			},
		},
		{
			name: "empty document",
			doc:  "",
			check: func(t *testing.T, a *models.WebsiteAnalysis) {
				require.Equal(t, "", a.Title)
				require.Equal(t, 0, a.WordCount)
				require.Equal(t, []models.Heading{}, a.Headings)
				require.Equal(t, []models.TermCount{}, a.TopTerms)
				require.Equal(t, models.ReadingLevel{}, a.ReadingLevel)
				require.Equal(t, models.ToneSignals{Formality: "NEUTRAL", Labels: []string{}, CallToActionPhrases: []string{}}, a.Tone)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, website.Extract([]byte(tt.doc), page, tt.brand))
		})
	}
}

func TestExtractReadingLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want models.ReadingLevel
	}{
		{
			name: "short words, short sentences",
			text: "The quick brown fox jumps over the lazy dog. It was a sunny day.",
			want: models.ReadingLevel{FleschReadingEase: 97, GradeLevel: 1.5, Label: "very easy"},
		},
		{
			name: "one long sentence",
			text: "The committee will consider the proposal at its next meeting, and a decision is expected before the end of the financial year.",
			want: models.ReadingLevel{FleschReadingEase: 46.1, GradeLevel: 12.3, Label: "difficult"},
		},
		{
			name: "jargon clamps at zero",
			text: "Our comprehensive organizational methodology facilitates interdisciplinary collaboration, institutional accountability and sustainable operational excellence across heterogeneous international environments.",
			want: models.ReadingLevel{FleschReadingEase: 0, GradeLevel: 41, Label: "very difficult"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := website.Extract([]byte("<p>"+tt.text+"</p>"), nil, false)
			require.Equal(t, tt.want, a.ReadingLevel)
		})
	}
}

func TestExtractTone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		text      string
		formality string
		labels    []string
	}{
		{
			name:      "corporate prose",
			text:      "The Company provides consulting services to public institutions and regulated enterprises in the financial sector. Its practice combines regulatory analysis, operational review and independent assurance for boards and supervisory authorities.",
			formality: "FORMAL",
			labels:    []string{},
		},
		{
			name:      "asking the reader",
			text:      "Do you write every week? Is your blog growing? Our editor helps teams publish more.",
			formality: "NEUTRAL",
			labels:    []string{"conversational", "question-led"},
		},
		{
			name:      "sales copy",
			text:      "Save big today! Unlock exclusive deals and the best offer of the year. Shop now!",
			formality: "NEUTRAL",
			labels:    []string{"promotional"},
		},
		{
			name:      "developer documentation",
			text:      "Deploy the server with one command. The API returns JSON, and every webhook is signed. Configure the database connection in the CLI before the first deployment.",
			formality: "NEUTRAL",
			labels:    []string{"technical"},
		},
		{
			name:      "questions and dreams",
			text:      "What would you build if nothing stood in your way? What's your dream? We believe in your potential and your future. Together we can achieve it.",
			formality: "CASUAL",
			labels:    []string{"conversational", "inspirational", "question-led"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := website.Extract([]byte("<p>"+tt.text+"</p>"), nil, false)
			require.Equal(t, tt.formality, a.Tone.Formality)
			require.Equal(t, tt.labels, a.Tone.Labels)
		})
	}
}
