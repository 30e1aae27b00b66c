package onboarding

import (
	"context"

	"github.com/inkgraph/inkgraph/internal/persona"
	"github.com/inkgraph/inkgraph/models"
)

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

// PersonalizationContext reads what chat and playbooks use of the user's onboarding.
func (s *Service) PersonalizationContext(ctx context.Context, userID string) (*models.PersonalizationContext, error) {
	return s.Summary(userID).Personalization(ctx)
}
