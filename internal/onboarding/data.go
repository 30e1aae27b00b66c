package onboarding

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/persona"
	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// --- website analysis ---

// AnalyzeWebsite fetches and analyzes the user's site and saves the result,
// replacing any earlier one. A failed analysis keeps the earlier result.
func (s *Service) AnalyzeWebsite(ctx context.Context, userID, rawURL string) (*models.WebsiteAnalysis, error) {
	if strings.TrimSpace(rawURL) == "" {
		return nil, models.InvalidInput("url", "a website address is required")
	}
	if len(rawURL) > 2048 {
		return nil, models.InvalidInput("url", "the address is longer than 2048 characters")
	}
	a, err := s.Website.Analyze(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	a.UserID = userID
	if err := upsertWebsiteAnalysis(ctx, s.DB, a); err != nil {
		return nil, err
	}
	s.notify(ctx, userID)
	return a, nil
}

// WebsiteAnalysesByUserIDs is for loaders.
func (s *Service) WebsiteAnalysesByUserIDs(ctx context.Context, userIDs []string) (map[string]*models.WebsiteAnalysis, error) {
	return findWebsiteAnalysesByUserIDs(ctx, s.DB, userIDs)
}

// --- business information ---

// BusinessInfoInput is what a user enters about a business without a website. In an
// update, nil fields are left as they are.
type BusinessInfoInput struct {
	BusinessName   *string
	Description    *string
	Industry       *string
	TargetAudience *string
	BusinessGoals  []string
	Products       []string
}

// CreateBusinessInfo saves the user's business information; CONFLICT if it exists.
func (s *Service) CreateBusinessInfo(ctx context.Context, userID string, in BusinessInfoInput) (*models.BusinessInfo, error) {
	now := s.Now()
	b := &models.BusinessInfo{UserID: userID, CreatedAt: now, UpdatedAt: now, BusinessGoals: []string{}, Products: []string{}}
	if in.BusinessName == nil {
		return nil, models.InvalidInput("businessName", "a business name is required")
	}
	if in.Description == nil {
		return nil, models.InvalidInput("description", "a description of the business is required")
	}
	if err := applyBusinessInfo(b, in); err != nil {
		return nil, err
	}
	var err error
	if b.ID, err = newID(); err != nil {
		return nil, err
	}
	err = database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := findBusinessInfo(ctx, tx, userID); err == nil {
			return models.Errorf(models.CodeConflict, "business information exists already: update it instead")
		} else if models.ErrorCode(err) != models.CodeNotFound {
			return err
		}
		return insertBusinessInfo(ctx, tx, b)
	})
	if database.IsUniqueViolation(err) {
		return nil, models.Errorf(models.CodeConflict, "business information exists already: update it instead")
	}
	if err != nil {
		return nil, err
	}
	s.notify(ctx, userID)
	return b, nil
}

// UpdateBusinessInfo changes the fields given; NOT_FOUND when there is none yet.
func (s *Service) UpdateBusinessInfo(ctx context.Context, userID string, in BusinessInfoInput) (*models.BusinessInfo, error) {
	var b *models.BusinessInfo
	err := database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		// Partial updates read, change and write the row: two at once must not
		// write back each other's stale fields.
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		if b, err = findBusinessInfo(ctx, tx, userID); err != nil {
			return err
		}
		if err := applyBusinessInfo(b, in); err != nil {
			return err
		}
		b.UpdatedAt = s.Now()
		return updateBusinessInfo(ctx, tx, b)
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, userID)
	return b, nil
}

// DeleteBusinessInfo deletes the user's business information; true when there was
// some. Progress is left as it is: a completed step stays completed.
func (s *Service) DeleteBusinessInfo(ctx context.Context, userID string) (bool, error) {
	ok, err := deleteBusinessInfo(ctx, s.DB, userID)
	if err != nil {
		return false, err
	}
	if ok {
		s.notify(ctx, userID)
	}
	return ok, nil
}

// BusinessInfo returns the user's business information, nil when there is none.
func (s *Service) BusinessInfo(ctx context.Context, userID string) (*models.BusinessInfo, error) {
	m, err := findBusinessInfosByUserIDs(ctx, s.DB, []string{userID})
	return m[userID], err
}

// BusinessInfosByUserIDs is for loaders.
func (s *Service) BusinessInfosByUserIDs(ctx context.Context, userIDs []string) (map[string]*models.BusinessInfo, error) {
	return findBusinessInfosByUserIDs(ctx, s.DB, userIDs)
}

func applyBusinessInfo(b *models.BusinessInfo, in BusinessInfoInput) error {
	set := func(dst *string, v *string, field string, minLen, maxLen int) error {
		if v == nil {
			return nil
		}
		t := strings.TrimSpace(*v)
		if n := utf8.RuneCountInString(t); n < minLen || n > maxLen {
			if minLen > 0 && n < minLen {
				return models.InvalidInput(field, "%s needs at least %d characters", field, minLen)
			}
			return models.InvalidInput(field, "%s is longer than %d characters", field, maxLen)
		}
		*dst = t
		return nil
	}
	if err := set(&b.BusinessName, in.BusinessName, "businessName", 1, 200); err != nil {
		return err
	}
	if err := set(&b.Description, in.Description, "description", 10, 5000); err != nil {
		return err
	}
	if err := set(&b.Industry, in.Industry, "industry", 0, 200); err != nil {
		return err
	}
	if err := set(&b.TargetAudience, in.TargetAudience, "targetAudience", 0, 500); err != nil {
		return err
	}
	var err error
	if in.BusinessGoals != nil {
		if b.BusinessGoals, err = cleanList(in.BusinessGoals, "businessGoals", 20, 200); err != nil {
			return err
		}
	}
	if in.Products != nil {
		if b.Products, err = cleanList(in.Products, "products", 50, 200); err != nil {
			return err
		}
	}
	return nil
}

// cleanList trims items, drops empty ones and duplicates, and bounds the list.
func cleanList(items []string, field string, maxItems, maxLen int) ([]string, error) {
	out := make([]string, 0, len(items))
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" || slices.Contains(out, it) {
			continue
		}
		if utf8.RuneCountInString(it) > maxLen {
			return nil, models.InvalidInput(field, "an item of %s is longer than %d characters", field, maxLen)
		}
		out = append(out, it)
	}
	if len(out) > maxItems {
		return nil, models.InvalidInput(field, "%s holds at most %d items", field, maxItems)
	}
	return out, nil
}

// --- research preferences ---

// PreferencesInput is what step 3 saves. Enums are checked by the schema; the
// service checks them again for callers that are not GraphQL.
type PreferencesInput struct {
	Depth          models.ResearchDepth
	ContentTypes   []models.ContentType
	AutoResearch   bool
	FactualContent bool
	TargetAudience string
	WritingTone    models.WritingTone
	Language       string
}

var languageTag = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

// SaveResearchPreferences validates and saves the user's preferences, replacing any.
func (s *Service) SaveResearchPreferences(ctx context.Context, userID string, in PreferencesInput) (*models.ResearchPreferences, error) {
	switch in.Depth {
	case models.DepthBasic, models.DepthStandard, models.DepthComprehensive, models.DepthExpert:
	default:
		return nil, models.InvalidInput("depth", "unknown research depth %q", in.Depth)
	}
	if len(in.ContentTypes) == 0 {
		return nil, models.InvalidInput("contentTypes", "pick at least one content type")
	}
	var types []models.ContentType
	for _, t := range in.ContentTypes {
		if !slices.Contains(models.ContentTypes(), t) {
			return nil, models.InvalidInput("contentTypes", "unknown content type %q", t)
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if !slices.Contains(models.WritingTones(), in.WritingTone) {
		return nil, models.InvalidInput("writingTone", "unknown writing tone %q", in.WritingTone)
	}
	audience := strings.TrimSpace(in.TargetAudience)
	if utf8.RuneCountInString(audience) > 500 {
		return nil, models.InvalidInput("targetAudience", "targetAudience is longer than 500 characters")
	}
	lang := strings.TrimSpace(in.Language)
	if lang == "" {
		lang = "en"
	}
	if !languageTag.MatchString(lang) || len(lang) > 35 {
		return nil, models.InvalidInput("language", "language must be a language tag such as en or pt-BR")
	}
	p := &models.ResearchPreferences{
		UserID: userID, Depth: in.Depth, ContentTypes: types, AutoResearch: in.AutoResearch,
		FactualContent: in.FactualContent, TargetAudience: audience, WritingTone: in.WritingTone,
		Language: lang, UpdatedAt: s.Now(),
	}
	if err := upsertPreferences(ctx, s.DB, p); err != nil {
		return nil, err
	}
	s.notify(ctx, userID)
	return p, nil
}

// PreferencesByUserIDs is for loaders.
func (s *Service) PreferencesByUserIDs(ctx context.Context, userIDs []string) (map[string]*models.ResearchPreferences, error) {
	return findPreferencesByUserIDs(ctx, s.DB, userIDs)
}

// --- integrations ---

// SetIntegrations replaces the integrations the user chose in step 5. Choosing one
// records the wish; connecting it (OAuth) is not part of onboarding.
func (s *Service) SetIntegrations(ctx context.Context, userID string, kinds []string) ([]*models.Integration, error) {
	if len(kinds) > 100 {
		return nil, models.InvalidInput("kinds", "too many integrations")
	}
	now := s.Now()
	rows := make([]*models.Integration, 0, len(kinds))
	var seen []string
	for _, k := range kinds {
		if !slices.Contains(models.IntegrationKinds(), k) {
			return nil, models.InvalidInput("kinds", "unknown integration %q", k)
		}
		if slices.Contains(seen, k) {
			continue
		}
		seen = append(seen, k)
		rows = append(rows, &models.Integration{UserID: userID, Kind: k, Status: "SELECTED", CreatedAt: now})
	}
	slices.SortFunc(rows, func(a, b *models.Integration) int { return strings.Compare(a.Kind, b.Kind) })
	err := database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		// Delete-then-insert: a concurrent replacement must wait, or the two would
		// merge (or collide on the primary key).
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		return replaceIntegrations(ctx, tx, userID, rows)
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, userID)
	return rows, nil
}

// IntegrationsByUserIDs is for loaders.
func (s *Service) IntegrationsByUserIDs(ctx context.Context, userIDs []string) (map[string][]*models.Integration, error) {
	return findIntegrationsByUserIDs(ctx, s.DB, userIDs)
}

// --- personas ---

// personaInput gathers what generation uses.
func (s *Service) personaInput(ctx context.Context, userID string, platforms []models.Platform) (persona.Input, error) {
	ids := []string{userID}
	w, err := findWebsiteAnalysesByUserIDs(ctx, s.DB, ids)
	if err != nil {
		return persona.Input{}, err
	}
	b, err := findBusinessInfosByUserIDs(ctx, s.DB, ids)
	if err != nil {
		return persona.Input{}, err
	}
	p, err := findPreferencesByUserIDs(ctx, s.DB, ids)
	if err != nil {
		return persona.Input{}, err
	}
	return persona.Input{Website: w[userID], Business: b[userID], Preferences: p[userID], Platforms: platforms}, nil
}

// Readiness says whether a persona can be generated from these inputs.
func Readiness(w *models.WebsiteAnalysis, b *models.BusinessInfo, p *models.ResearchPreferences) *models.PersonaReadiness {
	r := persona.Readiness(persona.Input{Website: w, Business: b, Preferences: p})
	return &r
}

// PersonaReadiness says whether a persona can be generated, and what is missing.
func (s *Service) PersonaReadiness(ctx context.Context, userID string) (*models.PersonaReadiness, error) {
	in, err := s.personaInput(ctx, userID, nil)
	if err != nil {
		return nil, err
	}
	r := persona.Readiness(in)
	return &r, nil
}

// PreviewPersona generates a persona without saving it.
func (s *Service) PreviewPersona(ctx context.Context, userID string, platforms []models.Platform) (*models.PersonaDraft, error) {
	if err := persona.ValidatePlatforms(platforms); err != nil {
		return nil, err
	}
	in, err := s.personaInput(ctx, userID, platforms)
	if err != nil {
		return nil, err
	}
	return s.Generator.Generate(ctx, in)
}

// GeneratePersona generates a persona and saves it as the user's newest version,
// which becomes the active one.
func (s *Service) GeneratePersona(ctx context.Context, userID string, platforms []models.Platform) (*models.Persona, error) {
	draft, err := s.PreviewPersona(ctx, userID, platforms)
	if err != nil {
		return nil, err
	}
	var p *models.Persona
	err = database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		p, err = savePersona(ctx, tx, userID, draft, s.Now())
		return err
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, userID)
	return p, nil
}

// savePersona stores draft as the next version and makes it the active persona.
func savePersona(ctx context.Context, tx bun.IDB, userID string, draft *models.PersonaDraft, now time.Time) (*models.Persona, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	version, err := nextPersonaVersion(ctx, tx, userID)
	if err != nil {
		return nil, err
	}
	if err := deactivatePersonas(ctx, tx, userID); err != nil {
		return nil, err
	}
	p := &models.Persona{
		ID: id, UserID: userID, Version: version, Active: true, Source: draft.Source, Model: draft.Model,
		Core: draft.Core, PlatformPersonas: draft.PlatformPersonas, Quality: draft.Quality,
		SelectedPlatforms: draft.SelectedPlatforms, CreatedAt: now,
	}
	if err := insertPersona(ctx, tx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Personas lists the user's personas, newest first.
func (s *Service) Personas(ctx context.Context, userID string) ([]*models.Persona, error) {
	m, err := findPersonasByUserIDs(ctx, s.DB, []string{userID})
	return m[userID], err
}

// PersonasByUserIDs is for loaders.
func (s *Service) PersonasByUserIDs(ctx context.Context, userIDs []string) (map[string][]*models.Persona, error) {
	return findPersonasByUserIDs(ctx, s.DB, userIDs)
}

// SetActivePersona makes one of the user's personas the active one.
func (s *Service) SetActivePersona(ctx context.Context, userID, id string) (*models.Persona, error) {
	var p *models.Persona
	err := database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		if p, err = findPersona(ctx, tx, userID, id); err != nil {
			return err
		}
		if err := deactivatePersonas(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := activatePersona(ctx, tx, userID, id); err != nil {
			return err
		}
		p.Active = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, userID)
	return p, nil
}

// --- personalisation ---

// Personalization is what chat and playbooks use of onboarding, with defaults for
// what the user never entered.
func Personalization(w *models.WebsiteAnalysis, b *models.BusinessInfo, prefs *models.ResearchPreferences, active *models.Persona) *models.PersonalizationContext {
	c := &models.PersonalizationContext{}
	def := func(field string) { c.Defaulted = append(c.Defaulted, field) }
	switch {
	case b != nil && b.BusinessName != "":
		c.BusinessName = b.BusinessName
	case w != nil && w.Brand != nil && w.Brand.SiteName != "":
		c.BusinessName = w.Brand.SiteName
	case w != nil && w.Title != "":
		c.BusinessName = w.Title
	default:
		def("businessName")
	}
	if b != nil && b.Industry != "" {
		c.Industry = b.Industry
	} else {
		c.Industry = "general"
		def("industry")
	}
	switch {
	case prefs != nil && prefs.TargetAudience != "":
		c.TargetAudience = prefs.TargetAudience
	case b != nil && b.TargetAudience != "":
		c.TargetAudience = b.TargetAudience
	case active != nil && active.Core.Audience != "":
		c.TargetAudience = active.Core.Audience
	default:
		c.TargetAudience = "a general professional audience"
		def("targetAudience")
	}
	if prefs != nil {
		c.WritingTone, c.ResearchDepth, c.ContentTypes = prefs.WritingTone, prefs.Depth, prefs.ContentTypes
		c.AutoResearch, c.FactualContent, c.Language = prefs.AutoResearch, prefs.FactualContent, prefs.Language
	} else {
		c.WritingTone, c.ResearchDepth = "PROFESSIONAL", models.DepthStandard
		c.ContentTypes = []models.ContentType{"BLOG_POST", "SOCIAL_POST"}
		c.AutoResearch, c.FactualContent, c.Language = true, true, "en"
		def("writingTone")
		def("researchDepth")
		def("contentTypes")
		def("autoResearch")
		def("factualContent")
		def("language")
	}
	switch {
	case active != nil && len(active.Core.KeyTopics) > 0:
		c.KeyTopics = active.Core.KeyTopics
	case w != nil && len(w.TopTerms) > 0:
		for _, t := range w.TopTerms[:min(8, len(w.TopTerms))] {
			c.KeyTopics = append(c.KeyTopics, t.Term)
		}
	case b != nil && len(b.Products) > 0:
		c.KeyTopics = b.Products[:min(8, len(b.Products))]
	default:
		c.KeyTopics = []string{}
		def("keyTopics")
	}
	if active != nil {
		c.PersonaID, c.PersonaSummary, c.Voice = &active.ID, active.Core.Summary, active.Core.Voice
		c.Platforms = active.SelectedPlatforms
	} else {
		c.Platforms = persona.DefaultPlatforms()
		c.Voice = "clear and helpful"
		def("persona")
		def("platforms")
	}
	return c
}

// ActivePersona returns the active persona from a user's personas, nil if none.
func ActivePersona(ps []*models.Persona) *models.Persona {
	for _, p := range ps {
		if p.Active {
			return p
		}
	}
	return nil
}

// PersonalizationContext reads what chat and playbooks use of the user's onboarding.
func (s *Service) PersonalizationContext(ctx context.Context, userID string) (*models.PersonalizationContext, error) {
	ids := []string{userID}
	w, err := s.WebsiteAnalysesByUserIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	b, err := s.BusinessInfosByUserIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	p, err := s.PreferencesByUserIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	ps, err := s.PersonasByUserIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	return Personalization(w[userID], b[userID], p[userID], ActivePersona(ps[userID])), nil
}
