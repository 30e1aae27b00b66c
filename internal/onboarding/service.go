// Package onboarding owns the six-step wizard a new user walks through: progress and
// step rules, provider API keys (encrypted at rest under the key ring), website
// analysis or business information, research preferences, integrations, saved
// personas, the personalisation context later areas read, the summary one operation
// reads all of this through (summary.go), and the progress events a client
// subscribes to. Page fetching, provider checks and persona generation are
// done by the parts it is given (see Deps).
package onboarding

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/internal/persona"
	"github.com/inkgraph/inkgraph/internal/platform/keyring"
	"github.com/inkgraph/inkgraph/models"
)

// Events carries progress events between server instances; events.Bus satisfies it.
type Events interface {
	Publish(ctx context.Context, topic string, payload []byte) error
	Subscribe(ctx context.Context, topic string) (<-chan []byte, error)
}

// KeyVerifier checks a key against its provider's API.
type KeyVerifier interface {
	Verify(ctx context.Context, provider, key string) error
}

// WebsiteAnalyzer fetches and analyzes a page.
type WebsiteAnalyzer interface {
	Analyze(ctx context.Context, rawURL string) (*models.WebsiteAnalysis, error)
}

// PersonaGenerator writes a persona from the user's inputs.
type PersonaGenerator interface {
	Generate(ctx context.Context, in persona.Input) (*models.PersonaDraft, error)
}

// Tiers tells a user's billing tier; the accounts service satisfies it.
type Tiers interface {
	TierOf(ctx context.Context, userID string) (models.Tier, error)
}

// Auditor records security-relevant events of an account (the billing area's audit
// log satisfies it).
type Auditor interface {
	Record(ctx context.Context, userID string, kind models.AuditKind, detail models.AuditDetail) error
}

// audit records an event; a failure is logged: the change itself is committed.
func (s *Service) audit(ctx context.Context, userID string, kind models.AuditKind, detail models.AuditDetail) {
	if s.Audit == nil {
		return
	}
	if err := s.Audit.Record(context.WithoutCancel(ctx), userID, kind, detail); err != nil {
		s.Logger.ErrorContext(ctx, "record audit entry", "error", err, "kind", kind, "user_id", userID)
	}
}

// Deps are what the service is built from.
type Deps struct {
	DB   bun.IDB
	Ring *keyring.Ring
	// ReloadRing, when set, reads the key ring again; it is tried once when a value
	// names a key version this process does not know yet (a rotation ran meanwhile).
	ReloadRing func() (*keyring.Ring, error)
	Verifier   KeyVerifier // used when LiveKeyCheck is on
	Website    WebsiteAnalyzer
	Generator  PersonaGenerator
	Tiers      Tiers
	Events     Events
	// Audit, when set, records provider keys saved and deleted in the audit log.
	Audit  Auditor
	Logger *slog.Logger
	Now    func() time.Time

	// LiveKeyCheck verifies keys against the provider when they are saved; a key
	// then counts as validated only once the provider accepted it.
	LiveKeyCheck  bool
	BrandAnalysis bool
	LLMConfigured bool
}

// Service implements the onboarding area.
type Service struct {
	Deps
	ring atomic.Pointer[keyring.Ring]
	// stmts are the summary's statements in the database's dialect.
	stmts *statements
}

// NewService returns the onboarding service.
func NewService(d Deps) (*Service, error) {
	if d.DB == nil || d.Ring == nil || d.Website == nil || d.Generator == nil || d.Tiers == nil || d.Events == nil {
		return nil, errors.New("onboarding: DB, Ring, Website, Generator, Tiers and Events are required")
	}
	if d.LiveKeyCheck && d.Verifier == nil {
		return nil, errors.New("onboarding: live key checks need a Verifier")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	now := d.Now
	d.Now = func() time.Time { return now().UTC() }
	s := &Service{Deps: d, stmts: newStatements(d.DB)}
	s.ring.Store(d.Ring)
	return s, nil
}

// keys returns the key ring in use.
func (s *Service) keys() *keyring.Ring { return s.ring.Load() }

// openKey decrypts a stored key. A version this process has not seen yet means a
// rotation added it after the ring was loaded: the ring is reloaded once.
func (s *Service) openKey(ciphertext []byte, userID, provider string) ([]byte, error) {
	plain, err := s.keys().Open(ciphertext, userID, provider)
	if errors.Is(err, keyring.ErrUnknownVersion) && s.ReloadRing != nil {
		ring, rerr := s.reloadRing()
		if rerr != nil {
			return nil, models.Internal(rerr, "reload the key ring")
		}
		plain, err = ring.Open(ciphertext, userID, provider)
	}
	return plain, err
}

// reloadRing reads the key ring again (ReloadRing must be set) and, when that works,
// uses it from now on.
func (s *Service) reloadRing() (*keyring.Ring, error) {
	ring, err := s.ReloadRing()
	if err == nil {
		s.ring.Store(ring)
	}
	return ring, err
}

// Config describes the wizard for the frontend.
func (s *Service) Config() *models.OnboardingConfig {
	c := &models.OnboardingConfig{
		Steps:         models.Steps(),
		Providers:     providers.Registry(),
		Platforms:     models.Platforms(),
		ContentTypes:  models.ContentTypes(),
		WritingTones:  models.WritingTones(),
		Integrations:  models.IntegrationKinds(),
		LiveKeyCheck:  s.LiveKeyCheck,
		BrandAnalysis: s.BrandAnalysis,
		LLMConfigured: s.LLMConfigured,
	}
	for _, st := range c.Steps {
		if st.Required {
			c.RequiredSteps = append(c.RequiredSteps, st.Step)
		} else {
			c.OptionalSteps = append(c.OptionalSteps, st.Step)
		}
	}
	return c
}

func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", models.Internal(err, "new id")
	}
	return id.String(), nil
}
