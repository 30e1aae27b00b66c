// Package persona owns writing-persona generation from onboarding data: deciding
// whether the inputs are enough (Readiness), the deterministic rules generator, the
// optional language-model path with its strict answer parsing and its fallback to
// rules, the per-platform adaptations with their platform facts, and the quality
// score. It is pure: it stores nothing, reads no clock and draws no random numbers,
// so the same input always gives the same rules persona, byte for byte.
package persona

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/inkgraph/inkgraph/models"
)

// Input is everything generation may use. Website or Business (or both) may be nil.
type Input struct {
	Website     *models.WebsiteAnalysis
	Business    *models.BusinessInfo
	Preferences *models.ResearchPreferences
	Platforms   []models.Platform // empty: DefaultPlatforms
}

// DefaultPlatforms are the platforms a persona is made for when the user picked none.
func DefaultPlatforms() []models.Platform {
	return []models.Platform{platformBlog, platformLinkedIn}
}

// ValidatePlatforms refuses unknown and repeated platforms (BAD_USER_INPUT, field
// "platforms"). An empty list is valid: it stands for DefaultPlatforms.
func ValidatePlatforms(ps []models.Platform) error {
	known := models.Platforms()
	for i, p := range ps {
		if !slices.Contains(known, p) {
			names := make([]string, len(known))
			for j, k := range known {
				names[j] = string(k)
			}
			return models.InvalidInput("platforms", "unknown platform %q; choose from %s", p, strings.Join(names, ", "))
		}
		if slices.Contains(ps[:i], p) {
			return models.InvalidInput("platforms", "platform %s is listed more than once", p)
		}
	}
	return nil
}

// What Readiness reports missing.
const (
	missingSource      = "website analysis or business information"
	missingPreferences = "research preferences"
)

// Readiness says whether in holds enough to generate a persona: a website analysis
// with some text (at least 50 words, a description or an LLM style analysis) or
// business information with a description, and research preferences.
func Readiness(in Input) models.PersonaReadiness {
	return newView(in).readiness()
}

// Completer is the LLM, when configured: it answers one JSON object.
type Completer interface {
	CompleteJSON(ctx context.Context, system, prompt string) (text, model string, err error)
}

// Generator makes persona drafts.
type Generator struct {
	llm    Completer
	logger *slog.Logger
}

// NewGenerator returns a generator that asks llm first and falls back to rules; with
// a nil llm it uses rules only. A nil logger discards.
func NewGenerator(llm Completer, logger *slog.Logger) *Generator {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Generator{llm: llm, logger: logger}
}

// Notes the generator adds when the language model's answer is not used whole.
const (
	noteLLMFailed   = "the language model could not be reached; built by rules"
	noteLLMUnusable = "the language model's answer was unusable; built by rules"
)

// Generate makes a persona draft from in. It refuses (BAD_USER_INPUT) invalid
// platforms and inputs that are not ready, naming what is missing. A language model
// that fails or answers something unusable is logged and replaced by rules; only a
// cancelled or expired ctx makes the model path return an error.
func (g *Generator) Generate(ctx context.Context, in Input) (*models.PersonaDraft, error) {
	platforms := slices.Clone(in.Platforms)
	if len(platforms) == 0 {
		platforms = DefaultPlatforms()
	}
	if err := ValidatePlatforms(platforms); err != nil {
		return nil, err
	}
	v := newView(in)
	if r := v.readiness(); !r.Ready {
		return nil, v.notReady(r)
	}

	rules := buildRules(v, platforms)
	draft := &models.PersonaDraft{
		Source:            models.PersonaFromRules,
		Core:              rules.core,
		PlatformPersonas:  rules.platforms,
		SelectedPlatforms: platforms,
	}
	var notes []string
	if g.llm != nil {
		var err error
		if notes, err = g.fromModel(ctx, v, platforms, rules, draft); err != nil {
			return nil, err
		}
	}
	draft.Quality = assess(v, rules, notes)
	return draft, nil
}

// fromModel asks the language model once and, when its answer is usable, puts it in
// draft. It returns the notes for the quality assessment, and an error only when ctx
// is done: then the caller has stopped waiting, and a rules persona nobody waited
// for could only be stored by mistake.
func (g *Generator) fromModel(ctx context.Context, v view, platforms []models.Platform, rules built, draft *models.PersonaDraft) ([]string, error) {
	prompt, err := userPrompt(v, platforms)
	if err != nil {
		g.logger.WarnContext(ctx, "persona: no prompt for the language model; built by rules", "error", err)
		return []string{noteLLMFailed}, nil
	}
	text, model, err := g.llm.CompleteJSON(ctx, systemPrompt, prompt)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("persona: language model: %w", ctx.Err())
		}
		g.logger.WarnContext(ctx, "persona: language model failed; built by rules", "error", err)
		return []string{noteLLMFailed}, nil
	}
	core, pps, notes, err := parseAnswer(text, platforms, rules)
	if err != nil {
		g.logger.WarnContext(ctx, "persona: unusable language model answer; built by rules", "error", err, "model", model)
		return []string{noteLLMUnusable}, nil
	}
	draft.Source, draft.Model = models.PersonaFromLLM, strings.TrimSpace(model)
	draft.Core, draft.PlatformPersonas = core, pps
	return notes, nil
}

// minMeasuredWords is how much text a website analysis needs before its measured
// tone, reading level and frequent terms describe the site rather than noise.
const minMeasuredWords = 50

// view is the part of an Input that generation trusts, decided once.
type view struct {
	web      *models.WebsiteAnalysis // nil unless it has some text
	measured bool                    // web has enough words for its measurements to count
	style    *models.StyleAnalysis   // web's LLM style analysis, nil unless it says something
	thin     *models.WebsiteAnalysis // given, but too thin to use at all
	biz      *models.BusinessInfo    // nil unless it holds something
	prefs    *models.ResearchPreferences
}

func newView(in Input) view {
	v := view{prefs: in.Preferences}
	if w := in.Website; w != nil {
		style := w.Style
		if style != nil && clean(style.Tone, maxText) == "" && clean(style.Voice, maxText) == "" && clean(style.Audience, maxText) == "" {
			style = nil
		}
		if w.WordCount >= minMeasuredWords || clean(w.Description, maxText) != "" || style != nil {
			v.web, v.measured, v.style = w, w.WordCount >= minMeasuredWords, style
		} else {
			v.thin = w
		}
	}
	if b := in.Business; b != nil {
		said := append([]string{b.BusinessName, b.Description, b.Industry, b.TargetAudience}, b.Products...)
		if len(cleanList(append(said, b.BusinessGoals...), 1, maxText)) > 0 {
			v.biz = b
		}
	}
	return v
}

func (v view) hasSource() bool {
	return v.web != nil || (v.biz != nil && clean(v.biz.Description, maxText) != "")
}

func (v view) readiness() models.PersonaReadiness {
	r := models.PersonaReadiness{Missing: []string{}, Sources: []string{}}
	if v.web != nil {
		r.Sources = append(r.Sources, analysisOf(v.web))
	}
	if v.biz != nil {
		r.Sources = append(r.Sources, "business information")
	}
	if v.prefs != nil {
		r.Sources = append(r.Sources, "research preferences")
	}
	if v.style != nil {
		r.Sources = append(r.Sources, "LLM style analysis")
	}
	if !v.hasSource() {
		r.Missing = append(r.Missing, missingSource)
	}
	if v.prefs == nil {
		r.Missing = append(r.Missing, missingPreferences)
	}
	r.Ready = len(r.Missing) == 0
	return r
}

// notReady is the error for a readiness that is not ready: the missing items, and
// why inputs that were given did not count.
func (v view) notReady(r models.PersonaReadiness) error {
	msg := "not enough to generate a persona yet; missing: " + strings.Join(r.Missing, "; ")
	var why []string
	if !v.hasSource() {
		if v.thin != nil {
			why = append(why, fmt.Sprintf("the %s has too little text (%d words and no description)", analysisOf(v.thin), v.thin.WordCount))
		}
		if v.biz != nil {
			why = append(why, "the business information has no description")
		}
	}
	if len(why) > 0 {
		msg += " (" + strings.Join(why, "; ") + ")"
	}
	return models.InvalidInput("persona", "%s", msg)
}

// siteURL is the address the user knows their site by, "" when there is none.
func siteURL(w *models.WebsiteAnalysis) string {
	if u := clean(w.URL, 200); u != "" {
		return u
	}
	return clean(w.FinalURL, 200)
}

// analysisOf names a website analysis: "website analysis of https://…".
func analysisOf(w *models.WebsiteAnalysis) string {
	if u := siteURL(w); u != "" {
		return "website analysis of " + u
	}
	return "website analysis"
}
