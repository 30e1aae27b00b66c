package onboarding

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/persona"
	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// Readiness says whether a persona can be generated from these inputs.
func Readiness(w *models.WebsiteAnalysis, b *models.BusinessInfo, p *models.ResearchPreferences) *models.PersonaReadiness {
	r := persona.Readiness(persona.Input{Website: w, Business: b, Preferences: p})
	return &r
}

// PersonaReadiness says whether a persona can be generated, and what is missing.
func (s *Service) PersonaReadiness(ctx context.Context, userID string) (*models.PersonaReadiness, error) {
	return s.Summary(userID).PersonaReadiness(ctx)
}

// PreviewPersona generates a persona without saving it.
func (s *Service) PreviewPersona(ctx context.Context, userID string, platforms []models.Platform) (*models.PersonaDraft, error) {
	if err := persona.ValidatePlatforms(platforms); err != nil {
		return nil, err
	}
	in, err := s.Summary(userID).personaInput(ctx, platforms)
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
		if err := database.LockUser(ctx, tx, userID); err != nil {
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
// SetActivePersona makes one of the user's personas the active one.
func (s *Service) SetActivePersona(ctx context.Context, userID, id string) (*models.Persona, error) {
	var p *models.Persona
	err := database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		if err := database.LockUser(ctx, tx, userID); err != nil {
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

// Personas lists the user's personas, newest first.
func (s *Service) Personas(ctx context.Context, userID string) ([]*models.Persona, error) {
	return s.Summary(userID).Personas(ctx)
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
