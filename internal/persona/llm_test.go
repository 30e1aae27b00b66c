package persona_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/persona"
	"github.com/inkgraph/inkgraph/models"
)

// fakeLLM is a Completer whose answer the test decides.
type fakeLLM struct {
	complete func(ctx context.Context, system, prompt string) (text, model string, err error)
}

func (f fakeLLM) CompleteJSON(ctx context.Context, system, prompt string) (string, string, error) {
	return f.complete(ctx, system, prompt)
}

// answers replies with text as model "gpt-test".
func answers(text string) fakeLLM {
	return fakeLLM{complete: func(context.Context, string, string) (string, string, error) {
		return text, "gpt-test", nil
	}}
}

// validAnswer is a model answer for BLOG and LINKEDIN, as a map so that cases can
// break it.
func validAnswer() map[string]any {
	return map[string]any{
		"name":            "Ledger Pro Voice",
		"archetype":       "The Mentor",
		"summary":         "A calm, expert voice for small business owners.",
		"tone":            []string{"calm", "expert", "practical"},
		"voice":           "First person plural, speaking to the reader as you.",
		"audience":        "UK small business owners",
		"vocabularyLevel": "Plain English",
		"sentenceStyle":   "Short sentences",
		"keyTopics":       []string{"invoicing", "payroll"},
		"do":              []string{"Use examples"},
		"dont":            []string{"Use jargon"},
		"sampleOpening":   "Late invoices cost more than you think.",
		"platformPersonas": []map[string]any{
			{
				"platform": "BLOG", "tone": "Thorough", "format": "Guides with H2 sections",
				"maxLength": 0, "idealLength": "2,000 words", "hashtags": 0, "emojiUse": "NONE",
				"postingGuidance": []string{"Publish weekly"},
			},
			{
				"platform": "LINKEDIN", "tone": "Crisp", "format": "Text posts with a hook",
				"maxLength": 9999, "idealLength": "1,500 characters", "hashtags": 12, "emojiUse": "sparing",
				"postingGuidance": []string{"Post on Tuesdays"},
			},
		},
	}
}

func encode(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestGenerateWithLLM(t *testing.T) {
	t.Parallel()
	d := generateWith(t, answers(encode(t, validAnswer())), richInput())
	require.Equal(t, models.PersonaFromLLM, d.Source)
	require.Equal(t, "gpt-test", d.Model)
	require.Equal(t, models.CorePersona{
		Name: "Ledger Pro Voice", Archetype: "The Mentor", Summary: "A calm, expert voice for small business owners.",
		Tone: []string{"calm", "expert", "practical"}, Voice: "First person plural, speaking to the reader as you.",
		Audience: "UK small business owners", VocabularyLevel: "Plain English", SentenceStyle: "Short sentences",
		KeyTopics: []string{"invoicing", "payroll"}, Do: []string{"Use examples"}, Dont: []string{"Use jargon"},
		SampleOpening: "Late invoices cost more than you think.",
	}, d.Core)
	require.Equal(t, []models.PlatformPersona{
		{
			Platform: "BLOG", Tone: "Thorough", Format: "Guides with H2 sections", MaxLength: 0,
			IdealLength: "2,000 words", Hashtags: 0, EmojiUse: "NONE", PostingGuidance: []string{"Publish weekly"},
		},
		{
			// The platform's facts hold whatever the model said: 3,000 characters
			// and 3–5 hashtags.
			Platform: "LINKEDIN", Tone: "Crisp", Format: "Text posts with a hook", MaxLength: 3000,
			IdealLength: "1,500 characters", Hashtags: 5, EmojiUse: "SPARING", PostingGuidance: []string{"Post on Tuesdays"},
		},
	}, d.PlatformPersonas)

	// Quality is the rules' assessment of the same inputs.
	rules := generate(t, richInput())
	require.Equal(t, rules.Quality, d.Quality)
}

func TestGenerateWithLLMFallsBack(t *testing.T) {
	t.Parallel()
	rules := generate(t, richInput())
	without := func(key string) string {
		a := validAnswer()
		delete(a, key)
		return encode(t, a)
	}
	with := func(key string, v any) string {
		a := validAnswer()
		a[key] = v
		return encode(t, a)
	}
	valid := encode(t, validAnswer())

	for _, tc := range []struct {
		name string
		llm  fakeLLM
		note string
	}{
		{"not JSON", answers("Sure! Here is your persona: a friendly expert."), "the language model's answer was unusable; built by rules"},
		{"markdown fences", answers("```json\n" + valid + "\n```"), "the language model's answer was unusable; built by rules"},
		{"null", answers("null"), "the language model's answer was unusable; built by rules"},
		{"an array", answers("[" + valid + "]"), "the language model's answer was unusable; built by rules"},
		{"truncated", answers(valid[:len(valid)/2]), "the language model's answer was unusable; built by rules"},
		{"data after the object", answers(valid + ` {"name": "again"}`), "the language model's answer was unusable; built by rules"},
		{"unknown top-level field", answers(with("confidence", 0.9)), "the language model's answer was unusable; built by rules"},
		{"nested shape", answers(encode(t, map[string]any{"core": validAnswer()})), "the language model's answer was unusable; built by rules"},
		{"wrong type", answers(with("tone", "calm, expert")), "the language model's answer was unusable; built by rules"},
		{"no name", answers(without("name")), "the language model's answer was unusable; built by rules"},
		{"no summary", answers(with("summary", "   ")), "the language model's answer was unusable; built by rules"},
		{"no tone", answers(with("tone", []string{" ", ""})), "the language model's answer was unusable; built by rules"},
		{"no voice", answers(without("voice")), "the language model's answer was unusable; built by rules"},
		{"no audience", answers(without("audience")), "the language model's answer was unusable; built by rules"},
		{"the call fails", fakeLLM{complete: func(context.Context, string, string) (string, string, error) {
			return "", "", errors.New("upstream 503")
		}}, "the language model could not be reached; built by rules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			g := persona.NewGenerator(tc.llm, slog.New(slog.NewJSONHandler(&logs, nil)))
			d, err := g.Generate(t.Context(), richInput())
			require.NoError(t, err)
			requireBounded(t, d)
			require.Equal(t, models.PersonaFromRules, d.Source)
			require.Empty(t, d.Model)
			require.Equal(t, rules.Core, d.Core)
			require.Equal(t, rules.PlatformPersonas, d.PlatformPersonas)
			require.Equal(t, append([]string{tc.note}, rules.Quality.Notes...), d.Quality.Notes)
			require.Contains(t, logs.String(), `"level":"WARN"`)
			require.Contains(t, logs.String(), "built by rules")
		})
	}
}

func TestGenerateWithLLMFillsGaps(t *testing.T) {
	t.Parallel()
	rules := generate(t, richInput())

	t.Run("a missing platform comes from rules", func(t *testing.T) {
		t.Parallel()
		a := validAnswer()
		a["platformPersonas"] = a["platformPersonas"].([]map[string]any)[:1]
		d := generateWith(t, answers(encode(t, a)), richInput())
		require.Equal(t, models.PersonaFromLLM, d.Source)
		require.Equal(t, "Thorough", d.PlatformPersonas[0].Tone)
		require.Equal(t, rules.PlatformPersonas[1], d.PlatformPersonas[1])
		require.Contains(t, d.Quality.Notes, "the language model's answer had no usable persona for LINKEDIN; built by rules")
	})

	t.Run("no platforms at all", func(t *testing.T) {
		t.Parallel()
		a := validAnswer()
		delete(a, "platformPersonas")
		d := generateWith(t, answers(encode(t, a)), richInput())
		require.Equal(t, models.PersonaFromLLM, d.Source)
		require.Equal(t, "Ledger Pro Voice", d.Core.Name)
		require.Equal(t, rules.PlatformPersonas, d.PlatformPersonas)
	})

	t.Run("a platform without tone comes from rules", func(t *testing.T) {
		t.Parallel()
		a := validAnswer()
		a["platformPersonas"].([]map[string]any)[1]["tone"] = ""
		d := generateWith(t, answers(encode(t, a)), richInput())
		require.Equal(t, rules.PlatformPersonas[1], d.PlatformPersonas[1])
	})

	t.Run("platforms not asked for are ignored; order follows the request", func(t *testing.T) {
		t.Parallel()
		a := validAnswer()
		pps := a["platformPersonas"].([]map[string]any)
		extra := map[string]any{"platform": "X", "tone": "Snappy", "format": "Posts"}
		a["platformPersonas"] = []map[string]any{extra, pps[1], pps[0]}
		d := generateWith(t, answers(encode(t, a)), richInput())
		require.Len(t, d.PlatformPersonas, 2)
		require.Equal(t, models.Platform("BLOG"), d.PlatformPersonas[0].Platform)
		require.Equal(t, models.Platform("LINKEDIN"), d.PlatformPersonas[1].Platform)
		require.Equal(t, "Crisp", d.PlatformPersonas[1].Tone)
	})

	t.Run("optional fields come from rules", func(t *testing.T) {
		t.Parallel()
		a := validAnswer()
		delete(a, "sampleOpening")
		a["keyTopics"] = []string{}
		d := generateWith(t, answers(encode(t, a)), richInput())
		require.Equal(t, models.PersonaFromLLM, d.Source)
		require.Equal(t, rules.Core.SampleOpening, d.Core.SampleOpening)
		require.Equal(t, rules.Core.KeyTopics, d.Core.KeyTopics)
		require.Contains(t, d.Quality.Notes, "the language model's answer left out keyTopics and sampleOpening; filled in by rules")
	})

	t.Run("strings and lists are bounded", func(t *testing.T) {
		t.Parallel()
		a := validAnswer()
		a["summary"] = "  \n" + strings.Repeat("é", 600) + "  "
		a["name"] = "  Ledger\n  Pro   Voice "
		var many []string
		for i := range 15 {
			many = append(many, "rule "+string(rune('a'+i)))
		}
		a["do"] = many
		d := generateWith(t, answers(encode(t, a)), richInput())
		require.Equal(t, models.PersonaFromLLM, d.Source)
		require.Equal(t, "Ledger Pro Voice", d.Core.Name)
		require.Equal(t, 500, utf8.RuneCountInString(d.Core.Summary))
		require.Equal(t, many[:10], d.Core.Do)
	})
}

func TestPrompt(t *testing.T) {
	t.Parallel()
	var system, prompt string
	llm := fakeLLM{complete: func(_ context.Context, s, p string) (string, string, error) {
		system, prompt = s, p
		return encode(t, validAnswer()), "gpt-test", nil
	}}
	generateWith(t, llm, richInput())

	for _, want := range []string{
		"Acme Ledger", "Accounting software for small businesses.", "Acme Invoices", "grow trial sign-ups",
		`"writingTone": "PROFESSIONAL"`, "owners of small businesses in the UK", `"researchDepth": "STANDARD"`, "BLOG_POST",
		"https://acme.example", "Payroll without the headache", "invoicing", "professional and informative",
		`"BLOG"`, `"LINKEDIN"`, `"maxLength": 3000`,
	} {
		require.Contains(t, prompt, want)
	}
	for _, never := range []string{plantedUserID, plantedBusinessID} {
		require.NotContains(t, prompt, never)
		require.NotContains(t, system, never)
	}

	// The system prompt asks for every field of the persona by its json name.
	require.Contains(t, system, `"platformPersonas"`)
	for _, typ := range []reflect.Type{reflect.TypeFor[models.CorePersona](), reflect.TypeFor[models.PlatformPersona]()} {
		for f := range typ.Fields() {
			require.Contains(t, system, `"`+f.Tag.Get("json")+`"`, f.Name)
		}
	}
}

func TestGenerateWithLLMCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	llm := fakeLLM{complete: func(ctx context.Context, _, _ string) (string, string, error) {
		return "", "", ctx.Err()
	}}
	d, err := persona.NewGenerator(llm, nil).Generate(ctx, richInput())
	require.Nil(t, d)
	require.ErrorIs(t, err, context.Canceled)
}

func generateWith(t *testing.T, llm persona.Completer, in persona.Input) *models.PersonaDraft {
	t.Helper()
	d, err := persona.NewGenerator(llm, nil).Generate(t.Context(), in)
	require.NoError(t, err)
	requireBounded(t, d)
	return d
}
