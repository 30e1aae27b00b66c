package onboarding

import (
	"context"
	"sync"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/persona"
	"github.com/inkgraph/inkgraph/models"
)

// Summary is one user's onboarding as one operation reads it: the GraphQL summary,
// the personalisation chat and playbooks use, the checks of a step or of completion.
// Each table is read at most once, when something first needs it, and what was read
// is shared: the summary's sibling fields resolve concurrently and ask for the same
// rows (resume reads the progress, readiness and personalisation the inputs the other
// fields show). The tables holding at most one row per user (the account's tier,
// progress, website analysis, business information, preferences) are read together
// in one statement (summaryRow); steps, keys, integrations and personas take one
// statement each: the whole summary is five statements, whatever the data size.
// A Summary caches, so it serves one operation and is then dropped: a later
// operation, or a subscription's next event, takes a new one.
type Summary struct {
	db     bun.IDB
	userID string
	live   bool
	stmts  *statements
	// readable marks the keys that cannot be opened (Service.markUnreadable).
	readable func(context.Context, []*models.ProviderKey) error

	row          once[*summaryRow]
	progress     once[*models.OnboardingProgress]
	keys         once[[]*models.ProviderKey]
	integrations once[[]*models.Integration]
	personas     once[[]*models.Persona] // with every version's details
	versions     once[[]*models.Persona] // with the active version's details only
}

// Summary returns userID's onboarding, read lazily for one operation (see Summary).
func (s *Service) Summary(userID string) *Summary {
	return s.summaryIn(s.DB, userID)
}

// summaryIn reads through db, which may be a transaction: reads are then made one
// after another, as the caller asks for them.
func (s *Service) summaryIn(db bun.IDB, userID string) *Summary {
	return &Summary{db: db, userID: userID, live: s.LiveKeyCheck, stmts: s.stmts, readable: s.markUnreadable}
}

// once holds a value read at most once; concurrent callers wait for the first read
// and share its result, error included.
type once[T any] struct {
	do  sync.Once
	v   T
	err error
}

// get returns the value, read with the store function read for m's user on first use.
func (o *once[T]) get(ctx context.Context, m *Summary, read func(context.Context, bun.IDB, string) (T, error)) (T, error) {
	o.do.Do(func() { o.v, o.err = read(ctx, m.db, m.userID) })
	return o.v, o.err
}

// absent reads with find, turning NOT_FOUND into a nil row: most onboarding data is
// simply not there until the user enters it.
func absent[T any](find func(context.Context, bun.IDB, string) (*T, error)) func(context.Context, bun.IDB, string) (*T, error) {
	return func(ctx context.Context, db bun.IDB, userID string) (*T, error) {
		row, err := find(ctx, db, userID)
		if models.ErrorCode(err) == models.CodeNotFound {
			err = nil
		}
		return row, err
	}
}

// UserID is the user the summary reads.
func (m *Summary) UserID() string { return m.userID }

// oneRow returns the user's summaryRow, nil when the account does not exist.
func (m *Summary) oneRow(ctx context.Context) (*summaryRow, error) {
	return m.row.get(ctx, m, absent(m.stmts.findSummaryRow))
}

// Progress returns the user's progress (an unstarted one if they never began).
func (m *Summary) Progress(ctx context.Context) (*models.OnboardingProgress, error) {
	return m.progress.get(ctx, m, m.readProgress)
}

// readProgress reads the steps, then takes the progress row from the summary's one
// row. In that order because sibling fields (website, plan, readiness) start the
// one row's read at the same time, so the two statements overlap rather than follow
// each other.
func (m *Summary) readProgress(ctx context.Context, db bun.IDB, userID string) (*models.OnboardingProgress, error) {
	steps, err := m.stmts.findSteps(ctx, db, userID)
	if err != nil {
		return nil, err
	}
	row, err := m.oneRow(ctx)
	if err != nil {
		return nil, err
	}
	return progressOf(userID, row.progress(), steps), nil
}

// Tier returns the tier stored in the user's account, which the summary's plan
// shows; NOT_FOUND when the account does not exist.
func (m *Summary) Tier(ctx context.Context) (models.Tier, error) {
	row, err := m.oneRow(ctx)
	if err != nil {
		return "", err
	}
	if row == nil {
		return "", &models.Error{Code: models.CodeNotFound, Message: "user not found"}
	}
	return row.Tier, nil
}

// Resume says which step the user should go to, and why.
func (m *Summary) Resume(ctx context.Context) (*models.ResumeInfo, error) {
	p, err := m.Progress(ctx)
	if err != nil {
		return nil, err
	}
	return Resume(p), nil
}

// ProviderKeys returns the user's keys, masked, by provider; one that cannot be
// opened shows as UNREADABLE.
func (m *Summary) ProviderKeys(ctx context.Context) ([]*models.ProviderKey, error) {
	return m.keys.get(ctx, m, m.findReadableKeys)
}

func (m *Summary) findReadableKeys(ctx context.Context, db bun.IDB, userID string) ([]*models.ProviderKey, error) {
	keys, err := m.stmts.findProviderKeys(ctx, db, userID)
	if err != nil {
		return nil, err
	}
	return keys, m.readable(ctx, keys)
}

// HasValidatedKey reports whether the user has a validated key of an LLM provider.
func (m *Summary) HasValidatedKey(ctx context.Context) (bool, error) {
	keys, err := m.ProviderKeys(ctx)
	if err != nil {
		return false, err
	}
	return HasValidatedLLMKey(keys, m.live), nil
}

// WebsiteAnalysis returns the user's website analysis, nil when there is none.
func (m *Summary) WebsiteAnalysis(ctx context.Context) (*models.WebsiteAnalysis, error) {
	row, err := m.oneRow(ctx)
	return row.website(), err
}

// BusinessInfo returns the user's business information, nil when there is none.
func (m *Summary) BusinessInfo(ctx context.Context) (*models.BusinessInfo, error) {
	row, err := m.oneRow(ctx)
	return row.business(), err
}

// ResearchPreferences returns the user's research preferences, nil when there are none.
func (m *Summary) ResearchPreferences(ctx context.Context) (*models.ResearchPreferences, error) {
	row, err := m.oneRow(ctx)
	return row.preferences(), err
}

// Integrations returns the integrations the user chose, by kind.
func (m *Summary) Integrations(ctx context.Context) ([]*models.Integration, error) {
	return m.integrations.get(ctx, m, m.stmts.findIntegrations)
}

// Personas returns the user's personas, newest first, every one with its details.
func (m *Summary) Personas(ctx context.Context) ([]*models.Persona, error) {
	return m.personas.get(ctx, m, findPersonas)
}

// PersonaVersions returns the user's personas, newest first, with details (core,
// platform personas, quality, selected platforms) on the active one only: for a
// list that shows no more of the others than their ID, version, source, model and
// creation time.
func (m *Summary) PersonaVersions(ctx context.Context) ([]*models.Persona, error) {
	return m.versions.get(ctx, m, m.stmts.findPersonaVersions)
}

// ActivePersona returns the user's active persona, nil when none is.
func (m *Summary) ActivePersona(ctx context.Context) (*models.Persona, error) {
	ps, err := m.PersonaVersions(ctx)
	if err != nil {
		return nil, err
	}
	return ActivePersona(ps), nil
}

// personaInput is what persona generation, readiness and personalisation are
// computed from: the website analysis, business information and preferences.
func (m *Summary) personaInput(ctx context.Context, platforms []models.Platform) (persona.Input, error) {
	in := persona.Input{Platforms: platforms}
	var err error
	if in.Website, err = m.WebsiteAnalysis(ctx); err != nil {
		return persona.Input{}, err
	}
	if in.Business, err = m.BusinessInfo(ctx); err != nil {
		return persona.Input{}, err
	}
	if in.Preferences, err = m.ResearchPreferences(ctx); err != nil {
		return persona.Input{}, err
	}
	return in, nil
}

// PersonaReadiness says whether a persona can be generated, and what is missing.
func (m *Summary) PersonaReadiness(ctx context.Context) (*models.PersonaReadiness, error) {
	in, err := m.personaInput(ctx, nil)
	if err != nil {
		return nil, err
	}
	return Readiness(in.Website, in.Business, in.Preferences), nil
}

// Personalization is what chat and playbooks use of the user's onboarding, with
// defaults for what the user never entered.
func (m *Summary) Personalization(ctx context.Context) (*models.PersonalizationContext, error) {
	in, err := m.personaInput(ctx, nil)
	if err != nil {
		return nil, err
	}
	active, err := m.ActivePersona(ctx)
	if err != nil {
		return nil, err
	}
	return Personalization(in.Website, in.Business, in.Preferences, active), nil
}
