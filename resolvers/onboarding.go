package resolvers

import (
	"context"

	"github.com/inkgraph/inkgraph/dataloaders"
	"github.com/inkgraph/inkgraph/graph"
	"github.com/inkgraph/inkgraph/graph/model"
	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/models"
)

// Wizard is what the resolvers need of the onboarding area.
type Wizard interface {
	Config() *models.OnboardingConfig
	Start(ctx context.Context, userID string) (*models.OnboardingProgress, error)
	CompleteStep(ctx context.Context, userID string, step models.Step) (*models.OnboardingProgress, error)
	SkipStep(ctx context.Context, userID string, step models.Step) (*models.OnboardingProgress, error)
	Reset(ctx context.Context, userID string, deleteData bool) (*models.ResetResult, error)
	Complete(ctx context.Context, userID string) (*models.OnboardingProgress, error)
	SaveProviderKey(ctx context.Context, userID, provider, key string) (*models.ProviderKey, error)
	DeleteProviderKey(ctx context.Context, userID, provider string) (bool, error)
	VerifyProviderKey(ctx context.Context, userID, provider string) (*models.ProviderKey, error)
	AnalyzeWebsite(ctx context.Context, userID, rawURL string) (*models.WebsiteAnalysis, error)
	CreateBusinessInfo(ctx context.Context, userID string, in onboarding.BusinessInfoInput) (*models.BusinessInfo, error)
	UpdateBusinessInfo(ctx context.Context, userID string, in onboarding.BusinessInfoInput) (*models.BusinessInfo, error)
	DeleteBusinessInfo(ctx context.Context, userID string) (bool, error)
	SaveResearchPreferences(ctx context.Context, userID string, in onboarding.PreferencesInput) (*models.ResearchPreferences, error)
	SetIntegrations(ctx context.Context, userID string, kinds []string) ([]*models.Integration, error)
	PreviewPersona(ctx context.Context, userID string, platforms []models.Platform) (*models.PersonaDraft, error)
	GeneratePersona(ctx context.Context, userID string, platforms []models.Platform) (*models.Persona, error)
	SetActivePersona(ctx context.Context, userID, id string) (*models.Persona, error)
	PersonaReadiness(ctx context.Context, userID string) (*models.PersonaReadiness, error)
	ProgressEvents(ctx context.Context, userID string) (<-chan *models.OnboardingProgress, error)
	LiveKeyChecks() bool
}

func callerID(ctx context.Context) (string, error) {
	c, err := models.CallerFrom(ctx)
	return c.UserID, err
}

// --- the summary: every field reads through the operation's loaders ---

func (r *queryResolver) Onboarding(ctx context.Context) (*models.Onboarding, error) {
	id, err := callerID(ctx)
	if err != nil {
		return nil, err
	}
	return &models.Onboarding{UserID: id}, nil
}

func (r *userResolver) Onboarding(ctx context.Context, u *models.User) (*models.Onboarding, error) {
	// me is the caller; the user of a register or login payload is not yet (the
	// request carries no token): null there, so the payload with its tokens survives.
	id, err := callerID(ctx)
	if err != nil || id != u.ID {
		return nil, nil //nolint:nilnil // not the caller's: nothing to show
	}
	return &models.Onboarding{UserID: id}, nil
}

type onboardingResolver struct{ *Resolver }

func (r *onboardingResolver) Progress(ctx context.Context, o *models.Onboarding) (*models.OnboardingProgress, error) {
	return dataloaders.For(ctx).Progress(ctx, o.UserID)
}

func (r *onboardingResolver) Resume(ctx context.Context, o *models.Onboarding) (*models.ResumeInfo, error) {
	p, err := dataloaders.For(ctx).Progress(ctx, o.UserID)
	if err != nil {
		return nil, err
	}
	return onboarding.Resume(p), nil
}

func (r *onboardingResolver) ProviderKeys(ctx context.Context, o *models.Onboarding) ([]*models.ProviderKey, error) {
	return dataloaders.For(ctx).ProviderKeys(ctx, o.UserID)
}

func (r *onboardingResolver) HasValidatedKey(ctx context.Context, o *models.Onboarding) (bool, error) {
	keys, err := dataloaders.For(ctx).ProviderKeys(ctx, o.UserID)
	if err != nil {
		return false, err
	}
	return onboarding.HasValidatedLLMKey(keys, r.Wizard.LiveKeyChecks()), nil
}

func (r *onboardingResolver) WebsiteAnalysis(ctx context.Context, o *models.Onboarding) (*models.WebsiteAnalysis, error) {
	return dataloaders.For(ctx).WebsiteAnalysis(ctx, o.UserID)
}

func (r *onboardingResolver) BusinessInfo(ctx context.Context, o *models.Onboarding) (*models.BusinessInfo, error) {
	return dataloaders.For(ctx).BusinessInfo(ctx, o.UserID)
}

func (r *onboardingResolver) ResearchPreferences(ctx context.Context, o *models.Onboarding) (*models.ResearchPreferences, error) {
	return dataloaders.For(ctx).ResearchPreferences(ctx, o.UserID)
}

func (r *onboardingResolver) Integrations(ctx context.Context, o *models.Onboarding) ([]*models.Integration, error) {
	return dataloaders.For(ctx).Integrations(ctx, o.UserID)
}

func (r *onboardingResolver) ActivePersona(ctx context.Context, o *models.Onboarding) (*models.Persona, error) {
	ps, err := dataloaders.For(ctx).Personas(ctx, o.UserID)
	if err != nil {
		return nil, err
	}
	return onboarding.ActivePersona(ps), nil
}

func (r *onboardingResolver) Personas(ctx context.Context, o *models.Onboarding) ([]*models.Persona, error) {
	return dataloaders.For(ctx).Personas(ctx, o.UserID)
}

// inputs loads what readiness and personalisation are computed from.
func inputs(ctx context.Context, userID string) (*models.WebsiteAnalysis, *models.BusinessInfo, *models.ResearchPreferences, error) {
	l := dataloaders.For(ctx)
	w, err := l.WebsiteAnalysis(ctx, userID)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := l.BusinessInfo(ctx, userID)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := l.ResearchPreferences(ctx, userID)
	return w, b, p, err
}

func (r *onboardingResolver) PersonaReadiness(ctx context.Context, o *models.Onboarding) (*models.PersonaReadiness, error) {
	w, b, p, err := inputs(ctx, o.UserID)
	if err != nil {
		return nil, err
	}
	return onboarding.Readiness(w, b, p), nil
}

func (r *onboardingResolver) Personalization(ctx context.Context, o *models.Onboarding) (*models.PersonalizationContext, error) {
	w, b, p, err := inputs(ctx, o.UserID)
	if err != nil {
		return nil, err
	}
	ps, err := dataloaders.For(ctx).Personas(ctx, o.UserID)
	if err != nil {
		return nil, err
	}
	return onboarding.Personalization(w, b, p, onboarding.ActivePersona(ps)), nil
}

func (r *onboardingResolver) Plan(ctx context.Context, o *models.Onboarding) (*models.Features, error) {
	u, err := dataloaders.For(ctx).User(ctx, o.UserID)
	if err != nil {
		return nil, err
	}
	f := models.FeaturesOf(u.Tier)
	return &f, nil
}

type providerKeyResolver struct{ *Resolver }

func (r *providerKeyResolver) Kind(ctx context.Context, k *models.ProviderKey) (models.ProviderKind, error) {
	p, err := providers.Lookup(k.Provider)
	if err != nil {
		return "", models.Internal(err, "stored key of unknown provider %q", k.Provider)
	}
	return p.Kind, nil
}

func (r *providerKeyResolver) Validated(ctx context.Context, k *models.ProviderKey) (bool, error) {
	return k.Validated(r.Wizard.LiveKeyChecks()), nil
}

// --- queries outside the summary ---

func (r *queryResolver) OnboardingConfig(ctx context.Context) (*models.OnboardingConfig, error) {
	return r.Wizard.Config(), nil
}

func (r *queryResolver) BusinessInfo(ctx context.Context) (*models.BusinessInfo, error) {
	id, err := callerID(ctx)
	if err != nil {
		return nil, err
	}
	return dataloaders.For(ctx).BusinessInfo(ctx, id)
}

func (r *queryResolver) Personas(ctx context.Context) ([]*models.Persona, error) {
	id, err := callerID(ctx)
	if err != nil {
		return nil, err
	}
	return dataloaders.For(ctx).Personas(ctx, id)
}

func (r *queryResolver) PersonaReadiness(ctx context.Context) (*models.PersonaReadiness, error) {
	id, err := callerID(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.PersonaReadiness(ctx, id)
}

func (r *queryResolver) Personalization(ctx context.Context) (*models.PersonalizationContext, error) {
	id, err := callerID(ctx)
	if err != nil {
		return nil, err
	}
	return (&onboardingResolver{r.Resolver}).Personalization(ctx, &models.Onboarding{UserID: id})
}

// --- mutations ---

// withCaller runs fn for the signed-in caller.
func withCaller[T any](ctx context.Context, fn func(userID string) (T, error)) (T, error) {
	id, err := callerID(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return fn(id)
}

func (r *mutationResolver) StartOnboarding(ctx context.Context) (*models.OnboardingProgress, error) {
	return withCaller(ctx, func(id string) (*models.OnboardingProgress, error) { return r.Wizard.Start(ctx, id) })
}

func (r *mutationResolver) CompleteStep(ctx context.Context, step int) (*models.OnboardingProgress, error) {
	return withCaller(ctx, func(id string) (*models.OnboardingProgress, error) {
		return r.Wizard.CompleteStep(ctx, id, models.Step(step))
	})
}

func (r *mutationResolver) SkipStep(ctx context.Context, step int) (*models.OnboardingProgress, error) {
	return withCaller(ctx, func(id string) (*models.OnboardingProgress, error) {
		return r.Wizard.SkipStep(ctx, id, models.Step(step))
	})
}

func (r *mutationResolver) ResetOnboarding(ctx context.Context, deleteData bool) (*models.ResetResult, error) {
	return withCaller(ctx, func(id string) (*models.ResetResult, error) { return r.Wizard.Reset(ctx, id, deleteData) })
}

func (r *mutationResolver) CompleteOnboarding(ctx context.Context) (*models.OnboardingProgress, error) {
	return withCaller(ctx, func(id string) (*models.OnboardingProgress, error) { return r.Wizard.Complete(ctx, id) })
}

func (r *mutationResolver) SaveProviderKey(ctx context.Context, provider, key string) (*models.ProviderKey, error) {
	return withCaller(ctx, func(id string) (*models.ProviderKey, error) {
		return r.Wizard.SaveProviderKey(ctx, id, provider, key)
	})
}

func (r *mutationResolver) DeleteProviderKey(ctx context.Context, provider string) (bool, error) {
	return withCaller(ctx, func(id string) (bool, error) { return r.Wizard.DeleteProviderKey(ctx, id, provider) })
}

func (r *mutationResolver) VerifyProviderKey(ctx context.Context, provider string) (*models.ProviderKey, error) {
	return withCaller(ctx, func(id string) (*models.ProviderKey, error) {
		return r.Wizard.VerifyProviderKey(ctx, id, provider)
	})
}

func (r *mutationResolver) AnalyzeWebsite(ctx context.Context, url string) (*models.WebsiteAnalysis, error) {
	return withCaller(ctx, func(id string) (*models.WebsiteAnalysis, error) { return r.Wizard.AnalyzeWebsite(ctx, id, url) })
}

func (r *mutationResolver) CreateBusinessInfo(ctx context.Context, in model.CreateBusinessInfoInput) (*models.BusinessInfo, error) {
	return withCaller(ctx, func(id string) (*models.BusinessInfo, error) {
		return r.Wizard.CreateBusinessInfo(ctx, id, onboarding.BusinessInfoInput{
			BusinessName: &in.BusinessName, Description: &in.Description, Industry: in.Industry,
			TargetAudience: in.TargetAudience, BusinessGoals: in.BusinessGoals, Products: in.Products,
		})
	})
}

func (r *mutationResolver) UpdateBusinessInfo(ctx context.Context, in model.UpdateBusinessInfoInput) (*models.BusinessInfo, error) {
	return withCaller(ctx, func(id string) (*models.BusinessInfo, error) {
		return r.Wizard.UpdateBusinessInfo(ctx, id, onboarding.BusinessInfoInput{
			BusinessName: in.BusinessName, Description: in.Description, Industry: in.Industry,
			TargetAudience: in.TargetAudience, BusinessGoals: in.BusinessGoals, Products: in.Products,
		})
	})
}

func (r *mutationResolver) DeleteBusinessInfo(ctx context.Context) (bool, error) {
	return withCaller(ctx, func(id string) (bool, error) { return r.Wizard.DeleteBusinessInfo(ctx, id) })
}

func (r *mutationResolver) SaveResearchPreferences(ctx context.Context, in model.ResearchPreferencesInput) (*models.ResearchPreferences, error) {
	return withCaller(ctx, func(id string) (*models.ResearchPreferences, error) {
		return r.Wizard.SaveResearchPreferences(ctx, id, onboarding.PreferencesInput{
			Depth: in.Depth, ContentTypes: in.ContentTypes, AutoResearch: in.AutoResearch,
			FactualContent: in.FactualContent, TargetAudience: deref(in.TargetAudience),
			WritingTone: in.WritingTone, Language: deref(in.Language),
		})
	})
}

func (r *mutationResolver) SetIntegrations(ctx context.Context, kinds []string) ([]*models.Integration, error) {
	return withCaller(ctx, func(id string) ([]*models.Integration, error) { return r.Wizard.SetIntegrations(ctx, id, kinds) })
}

func (r *mutationResolver) PreviewPersona(ctx context.Context, platforms []models.Platform) (*models.PersonaDraft, error) {
	return withCaller(ctx, func(id string) (*models.PersonaDraft, error) {
		return r.Wizard.PreviewPersona(ctx, id, platforms)
	})
}

func (r *mutationResolver) GeneratePersona(ctx context.Context, platforms []models.Platform) (*models.Persona, error) {
	return withCaller(ctx, func(id string) (*models.Persona, error) { return r.Wizard.GeneratePersona(ctx, id, platforms) })
}

func (r *mutationResolver) SetActivePersona(ctx context.Context, personaID string) (*models.Persona, error) {
	return withCaller(ctx, func(id string) (*models.Persona, error) {
		return r.Wizard.SetActivePersona(ctx, id, personaID)
	})
}

func (r *subscriptionResolver) OnboardingProgress(ctx context.Context) (<-chan *models.OnboardingProgress, error) {
	return withCaller(ctx, func(id string) (<-chan *models.OnboardingProgress, error) {
		return r.Wizard.ProgressEvents(ctx, id)
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

var (
	_ graph.OnboardingResolver  = &onboardingResolver{}
	_ graph.ProviderKeyResolver = &providerKeyResolver{}
	_ graph.UserResolver        = &userResolver{}
)
