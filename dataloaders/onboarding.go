package dataloaders

import (
	"context"
	"errors"

	"github.com/vikstrous/dataloadgen"

	"github.com/inkgraph/inkgraph/models"
)

// OnboardingSources are the onboarding service's batched reads, keyed by user ID.
type OnboardingSources struct {
	Progress       func(ctx context.Context, userIDs []string) (map[string]*models.OnboardingProgress, error)
	ProviderKeys   func(ctx context.Context, userIDs []string) (map[string][]*models.ProviderKey, error)
	Websites       func(ctx context.Context, userIDs []string) (map[string]*models.WebsiteAnalysis, error)
	BusinessInfos  func(ctx context.Context, userIDs []string) (map[string]*models.BusinessInfo, error)
	Preferences    func(ctx context.Context, userIDs []string) (map[string]*models.ResearchPreferences, error)
	Integrations   func(ctx context.Context, userIDs []string) (map[string][]*models.Integration, error)
	PersonasByUser func(ctx context.Context, userIDs []string) (map[string][]*models.Persona, error)
}

// onboardingLoaders read each onboarding table once per operation, however many
// fields of the summary need it: readiness, personalisation and resume reuse what
// the other fields loaded.
type onboardingLoaders struct {
	progress     *dataloadgen.Loader[string, *models.OnboardingProgress]
	keys         *dataloadgen.Loader[string, []*models.ProviderKey]
	websites     *dataloadgen.Loader[string, *models.WebsiteAnalysis]
	businesses   *dataloadgen.Loader[string, *models.BusinessInfo]
	preferences  *dataloadgen.Loader[string, *models.ResearchPreferences]
	integrations *dataloadgen.Loader[string, []*models.Integration]
	personas     *dataloadgen.Loader[string, []*models.Persona]
}

func newOnboardingLoaders(s OnboardingSources) onboardingLoaders {
	if s.Progress == nil {
		return onboardingLoaders{}
	}
	o := dataloadgen.WithWait(wait)
	return onboardingLoaders{
		progress:     dataloadgen.NewMappedLoader(s.Progress, o),
		keys:         dataloadgen.NewMappedLoader(s.ProviderKeys, o),
		websites:     dataloadgen.NewMappedLoader(s.Websites, o),
		businesses:   dataloadgen.NewMappedLoader(s.BusinessInfos, o),
		preferences:  dataloadgen.NewMappedLoader(s.Preferences, o),
		integrations: dataloadgen.NewMappedLoader(s.Integrations, o),
		personas:     dataloadgen.NewMappedLoader(s.PersonasByUser, o),
	}
}

// optional turns "no row for this user" into a zero value: most onboarding data is
// simply absent until the user enters it.
func optional[T any](v T, err error) (T, error) {
	if errors.Is(err, dataloadgen.ErrNotFound) {
		var zero T
		return zero, nil
	}
	return v, err
}

// Progress loads a user's onboarding progress (an unstarted one if they never began).
func (l *Loaders) Progress(ctx context.Context, userID string) (*models.OnboardingProgress, error) {
	return l.onboarding.progress.Load(ctx, userID)
}

// ProviderKeys loads a user's provider keys.
func (l *Loaders) ProviderKeys(ctx context.Context, userID string) ([]*models.ProviderKey, error) {
	return optional(l.onboarding.keys.Load(ctx, userID))
}

// WebsiteAnalysis loads a user's website analysis, nil if none.
func (l *Loaders) WebsiteAnalysis(ctx context.Context, userID string) (*models.WebsiteAnalysis, error) {
	return optional(l.onboarding.websites.Load(ctx, userID))
}

// BusinessInfo loads a user's business information, nil if none.
func (l *Loaders) BusinessInfo(ctx context.Context, userID string) (*models.BusinessInfo, error) {
	return optional(l.onboarding.businesses.Load(ctx, userID))
}

// ResearchPreferences loads a user's research preferences, nil if none.
func (l *Loaders) ResearchPreferences(ctx context.Context, userID string) (*models.ResearchPreferences, error) {
	return optional(l.onboarding.preferences.Load(ctx, userID))
}

// Integrations loads a user's chosen integrations.
func (l *Loaders) Integrations(ctx context.Context, userID string) ([]*models.Integration, error) {
	return optional(l.onboarding.integrations.Load(ctx, userID))
}

// Personas loads a user's personas, newest first.
func (l *Loaders) Personas(ctx context.Context, userID string) ([]*models.Persona, error) {
	return optional(l.onboarding.personas.Load(ctx, userID))
}
