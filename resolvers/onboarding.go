package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/inkgraph/inkgraph/dataloaders"
	"github.com/inkgraph/inkgraph/graph"
	"github.com/inkgraph/inkgraph/graph/model"
	"github.com/inkgraph/inkgraph/internal/onboarding"
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
	ProgressEvents(ctx context.Context, userID string) (<-chan *models.OnboardingProgress, error)
	LiveKeyChecks() bool
}

// --- the summary: every field reads from the operation's onboarding summary ---

func (r queryResolver) Onboarding(ctx context.Context) (*models.Onboarding, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return &models.Onboarding{UserID: caller.Space()}, nil
}

func (r userResolver) Onboarding(ctx context.Context, u *models.User) (*models.Onboarding, error) {
	// me is the caller; the user of a register or login payload is not yet (the
	// request carries no token): null there, so the payload with its tokens survives.
	var o *models.Onboarding
	if caller, err := models.CallerFrom(ctx); err == nil && caller.UserID == u.ID {
		o = &models.Onboarding{UserID: caller.UserID}
	}
	return o, nil
}

// summary is the operation's onboarding summary of o's user, the caller.
func summary(ctx context.Context, o *models.Onboarding) *onboarding.Summary {
	return dataloaders.For(ctx).Summary(o.UserID)
}

type onboardingResolver struct{ *Resolver }

func (r onboardingResolver) Progress(ctx context.Context, o *models.Onboarding) (*models.OnboardingProgress, error) {
	return summary(ctx, o).Progress(ctx)
}

func (r onboardingResolver) Resume(ctx context.Context, o *models.Onboarding) (*models.ResumeInfo, error) {
	return summary(ctx, o).Resume(ctx)
}

func (r onboardingResolver) ProviderKeys(ctx context.Context, o *models.Onboarding) ([]*onboarding.KeyView, error) {
	keys, err := summary(ctx, o).ProviderKeys(ctx)
	if err != nil {
		return nil, err
	}
	return onboarding.ViewKeys(keys, r.Wizard.LiveKeyChecks()), nil
}

func (r onboardingResolver) HasValidatedKey(ctx context.Context, o *models.Onboarding) (bool, error) {
	return summary(ctx, o).HasValidatedKey(ctx)
}

func (r onboardingResolver) WebsiteAnalysis(ctx context.Context, o *models.Onboarding) (*models.WebsiteAnalysis, error) {
	return summary(ctx, o).WebsiteAnalysis(ctx)
}

func (r onboardingResolver) BusinessInfo(ctx context.Context, o *models.Onboarding) (*models.BusinessInfo, error) {
	return summary(ctx, o).BusinessInfo(ctx)
}

func (r onboardingResolver) ResearchPreferences(ctx context.Context, o *models.Onboarding) (*models.ResearchPreferences, error) {
	return summary(ctx, o).ResearchPreferences(ctx)
}

func (r onboardingResolver) Integrations(ctx context.Context, o *models.Onboarding) ([]*models.Integration, error) {
	return summary(ctx, o).Integrations(ctx)
}

func (r onboardingResolver) ActivePersona(ctx context.Context, o *models.Onboarding) (*models.Persona, error) {
	return summary(ctx, o).ActivePersona(ctx)
}

func (r onboardingResolver) Personas(ctx context.Context, o *models.Onboarding) ([]*models.Persona, error) {
	return personas(ctx, summary(ctx, o))
}

// personas reads the user's personas with every version's details only when the
// selection asks for them: a list of versions (id, version, active) takes details
// of the active one alone, which is what the summary shows.
func personas(ctx context.Context, m *onboarding.Summary) ([]*models.Persona, error) {
	if personaDetailsAsked(ctx) {
		return m.Personas(ctx)
	}
	return m.PersonaVersions(ctx)
}

// personaDetailsAsked reports whether the field being resolved selects a Persona
// field that onboarding.Summary.PersonaVersions leaves empty on inactive versions.
func personaDetailsAsked(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return true
	}
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, []string{"Persona"}) {
		switch f.Name {
		case "id", "version", "active", "source", "model", "createdAt", "__typename":
		default:
			return true
		}
	}
	return false
}

func (r onboardingResolver) PersonaReadiness(ctx context.Context, o *models.Onboarding) (*models.PersonaReadiness, error) {
	return summary(ctx, o).PersonaReadiness(ctx)
}

func (r onboardingResolver) Personalization(ctx context.Context, o *models.Onboarding) (*models.PersonalizationContext, error) {
	return summary(ctx, o).Personalization(ctx)
}

func (r onboardingResolver) Plan(ctx context.Context, o *models.Onboarding) (*models.Features, error) {
	tier, err := summary(ctx, o).Tier(ctx)
	if err != nil {
		return nil, err
	}
	f := models.FeaturesOf(tier)
	return &f, nil
}

// --- queries outside the summary ---

func (r queryResolver) OnboardingConfig(ctx context.Context) (*models.OnboardingConfig, error) {
	return r.Wizard.Config(), nil
}

func (r queryResolver) BusinessInfo(ctx context.Context) (*models.BusinessInfo, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return dataloaders.For(ctx).Summary(caller.Space()).BusinessInfo(ctx)
}

func (r queryResolver) Personas(ctx context.Context) ([]*models.Persona, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return personas(ctx, dataloaders.For(ctx).Summary(caller.Space()))
}

func (r queryResolver) PersonaReadiness(ctx context.Context) (*models.PersonaReadiness, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return dataloaders.For(ctx).Summary(caller.Space()).PersonaReadiness(ctx)
}

func (r queryResolver) Personalization(ctx context.Context) (*models.PersonalizationContext, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return dataloaders.For(ctx).Summary(caller.Space()).Personalization(ctx)
}

// --- mutations ---

func (r mutationResolver) StartOnboarding(ctx context.Context) (*models.OnboardingProgress, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.Start(ctx, caller.Space())
}

func (r mutationResolver) CompleteStep(ctx context.Context, step int) (*models.OnboardingProgress, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.CompleteStep(ctx, caller.Space(), models.Step(step))
}

func (r mutationResolver) SkipStep(ctx context.Context, step int) (*models.OnboardingProgress, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.SkipStep(ctx, caller.Space(), models.Step(step))
}

func (r mutationResolver) ResetOnboarding(ctx context.Context, deleteData bool) (*models.ResetResult, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.Reset(ctx, caller.Space(), deleteData)
}

func (r mutationResolver) CompleteOnboarding(ctx context.Context) (*models.OnboardingProgress, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.Complete(ctx, caller.Space())
}

func (r mutationResolver) SaveProviderKey(ctx context.Context, provider, key string) (*onboarding.KeyView, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	k, err := r.Wizard.SaveProviderKey(ctx, caller.Space(), provider, key)
	return onboarding.ViewKey(k, r.Wizard.LiveKeyChecks()), err
}

func (r mutationResolver) DeleteProviderKey(ctx context.Context, provider string) (bool, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return false, err
	}
	return r.Wizard.DeleteProviderKey(ctx, caller.Space(), provider)
}

func (r mutationResolver) VerifyProviderKey(ctx context.Context, provider string) (*onboarding.KeyView, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	k, err := r.Wizard.VerifyProviderKey(ctx, caller.Space(), provider)
	return onboarding.ViewKey(k, r.Wizard.LiveKeyChecks()), err
}

func (r mutationResolver) AnalyzeWebsite(ctx context.Context, url string) (*models.WebsiteAnalysis, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.AnalyzeWebsite(ctx, caller.Space(), url)
}

func (r mutationResolver) CreateBusinessInfo(ctx context.Context, in model.CreateBusinessInfoInput) (*models.BusinessInfo, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.CreateBusinessInfo(ctx, caller.Space(), onboarding.BusinessInfoInput{
		BusinessName: &in.BusinessName, Description: &in.Description, Industry: in.Industry,
		TargetAudience: in.TargetAudience, BusinessGoals: in.BusinessGoals, Products: in.Products,
	})
}

func (r mutationResolver) UpdateBusinessInfo(ctx context.Context, in model.UpdateBusinessInfoInput) (*models.BusinessInfo, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.UpdateBusinessInfo(ctx, caller.Space(), onboarding.BusinessInfoInput{
		BusinessName: in.BusinessName, Description: in.Description, Industry: in.Industry,
		TargetAudience: in.TargetAudience, BusinessGoals: in.BusinessGoals, Products: in.Products,
	})
}

func (r mutationResolver) DeleteBusinessInfo(ctx context.Context) (bool, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return false, err
	}
	return r.Wizard.DeleteBusinessInfo(ctx, caller.Space())
}

func (r mutationResolver) SaveResearchPreferences(ctx context.Context, in model.ResearchPreferencesInput) (*models.ResearchPreferences, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.SaveResearchPreferences(ctx, caller.Space(), onboarding.PreferencesInput{
		Depth: in.Depth, ContentTypes: in.ContentTypes, AutoResearch: in.AutoResearch,
		FactualContent: in.FactualContent, TargetAudience: deref(in.TargetAudience),
		WritingTone: in.WritingTone, Language: deref(in.Language),
	})
}

func (r mutationResolver) SetIntegrations(ctx context.Context, kinds []string) ([]*models.Integration, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.SetIntegrations(ctx, caller.Space(), kinds)
}

func (r mutationResolver) PreviewPersona(ctx context.Context, platforms []models.Platform) (*models.PersonaDraft, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.PreviewPersona(ctx, caller.Space(), platforms)
}

func (r mutationResolver) GeneratePersona(ctx context.Context, platforms []models.Platform) (*models.Persona, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.GeneratePersona(ctx, caller.Space(), platforms)
}

func (r mutationResolver) SetActivePersona(ctx context.Context, personaID string) (*models.Persona, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	persona, err := r.Wizard.SetActivePersona(ctx, caller.Space(), personaID)
	return persona, notFoundArgument(err, "id")
}

func (r subscriptionResolver) OnboardingProgress(ctx context.Context) (<-chan *models.OnboardingProgress, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Wizard.ProgressEvents(ctx, caller.Space())
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

var (
	_ graph.OnboardingResolver = &onboardingResolver{}
	_ graph.UserResolver       = &userResolver{}
)
