package onboarding

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/inkgraph/inkgraph/internal/platform/lazyregexp"
	"github.com/inkgraph/inkgraph/models"
)

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

var languageTag = lazyregexp.New(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

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
