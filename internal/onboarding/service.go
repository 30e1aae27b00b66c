// Package onboarding owns the six-step wizard a new user walks through: progress and
// step rules, provider API keys (encrypted at rest under the key ring), website
// analysis or business information, research preferences, integrations, saved
// personas, the personalisation context later areas read, and the progress events a
// client subscribes to. Page fetching, provider checks and persona generation are
// done by the parts it is given (see Deps).
package onboarding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/internal/persona"
	"github.com/inkgraph/inkgraph/internal/platform/database"
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
	s := &Service{Deps: d}
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
		ring, rerr := s.ReloadRing()
		if rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		s.ring.Store(ring)
		plain, err = ring.Open(ciphertext, userID, provider)
	}
	return plain, err
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

// --- progress and steps ---

// Progress returns the user's progress; a user who never started gets an unstarted one.
func (s *Service) Progress(ctx context.Context, userID string) (*models.OnboardingProgress, error) {
	return findProgress(ctx, s.DB, userID)
}

// ProgressByUserIDs is Progress for loaders.
func (s *Service) ProgressByUserIDs(ctx context.Context, userIDs []string) (map[string]*models.OnboardingProgress, error) {
	return findProgressByUserIDs(ctx, s.DB, userIDs)
}

// errUnchanged lets a changeProgress callback say there is nothing to write.
var errUnchanged = errors.New("unchanged")

// changeProgress runs fn on the user's progress inside one transaction, holding the
// user's lock, saves what fn left, and tells subscribers after the commit. fn may
// return errUnchanged: the progress is returned as it was, and nothing is written.
func (s *Service) changeProgress(ctx context.Context, userID string, fn func(ctx context.Context, tx bun.Tx, p *models.OnboardingProgress, now time.Time) error) (*models.OnboardingProgress, error) {
	var out, unchanged *models.OnboardingProgress
	err := database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		now := s.Now()
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		p, err := findProgress(ctx, tx, userID)
		if err != nil {
			return err
		}
		if p.StartedAt == nil {
			p.StartedAt = &now
		}
		if err := fn(ctx, tx, p, now); errors.Is(err, errUnchanged) {
			unchanged = p
			return err
		} else if err != nil {
			return err
		}
		advance(p, now)
		p.UpdatedAt = now
		if err := saveProgress(ctx, tx, p); err != nil {
			return err
		}
		out = p
		return nil
	})
	if unchanged != nil {
		return unchanged, nil
	}
	if err != nil {
		return nil, err
	}
	s.notify(ctx, userID)
	return out, nil
}

// advance points the progress at the first step not done and marks it in progress.
func advance(p *models.OnboardingProgress, now time.Time) {
	p.CurrentStep = models.StepFinal
	for _, st := range p.Steps {
		if !st.Status.Done() {
			p.CurrentStep = st.Step
			break
		}
	}
	cur := p.Steps[p.CurrentStep-1]
	if cur.Status == models.StepPending {
		cur.Status = models.StepInProgress
		cur.StartedAt = &now
		cur.UpdatedAt = now
	}
	for _, st := range p.Steps {
		if st.UpdatedAt.IsZero() {
			st.UpdatedAt = now
		}
	}
}

// Start begins the wizard, or returns the progress of one already begun.
func (s *Service) Start(ctx context.Context, userID string) (*models.OnboardingProgress, error) {
	return s.changeProgress(ctx, userID, func(context.Context, bun.Tx, *models.OnboardingProgress, time.Time) error {
		return nil
	})
}

func checkStep(step models.Step) error {
	if !step.Valid() {
		return models.InvalidInput("step", "step %d is out of range: steps are numbered 1 to %d", step, models.StepCount)
	}
	return nil
}

// missingBefore lists the required steps before step that are not completed.
func missingBefore(p *models.OnboardingProgress, step models.Step) []models.Step {
	var missing []models.Step
	for _, st := range p.Steps[:step-1] {
		if st.Step.Info().Required && st.Status != models.StepCompleted {
			missing = append(missing, st.Step)
		}
	}
	return missing
}

func describeSteps(steps []models.Step) string {
	parts := make([]string, len(steps))
	for i, st := range steps {
		parts[i] = fmt.Sprintf("%d (%s)", st, st.Info().Title)
	}
	return strings.Join(parts, ", ")
}

func unfinishedError(step models.Step, missing []models.Step) error {
	return models.InvalidInput("step", "step %d cannot be finished before the required steps %s", step, describeSteps(missing))
}

// CompleteStep marks a step completed once the steps it depends on are and its own
// data is there. Step 6 is completing the whole onboarding (see Complete).
func (s *Service) CompleteStep(ctx context.Context, userID string, step models.Step) (*models.OnboardingProgress, error) {
	if err := checkStep(step); err != nil {
		return nil, err
	}
	if step == models.StepFinal {
		return s.Complete(ctx, userID)
	}
	return s.changeProgress(ctx, userID, func(ctx context.Context, tx bun.Tx, p *models.OnboardingProgress, now time.Time) error {
		if missing := missingBefore(p, step); len(missing) > 0 {
			return unfinishedError(step, missing)
		}
		if p.IsCompleted() {
			return models.Errorf(models.CodeConflict, "onboarding is already complete: reset it to change steps")
		}
		if err := s.stepDataReady(ctx, tx, userID, step); err != nil {
			return err
		}
		st := p.Steps[step-1]
		if st.Status != models.StepCompleted {
			st.Status, st.CompletedAt, st.SkippedAt, st.UpdatedAt = models.StepCompleted, &now, nil, now
			if st.StartedAt == nil {
				st.StartedAt = &now
			}
		}
		return nil
	})
}

// stepDataReady checks a step's own data exists before it may be completed.
func (s *Service) stepDataReady(ctx context.Context, db bun.IDB, userID string, step models.Step) error {
	switch step {
	case models.StepProviderKeys:
		keys, err := findProviderKeys(ctx, db, userID)
		if err != nil {
			return err
		}
		if !s.hasValidatedLLMKey(keys) {
			return models.InvalidInput("providerKeys", "step 1 needs at least one validated LLM provider key (%s)", strings.Join(llmProviderIDs(), ", "))
		}
	case models.StepWebsite:
		w, err := findWebsiteAnalysesByUserIDs(ctx, db, []string{userID})
		if err != nil {
			return err
		}
		b, err := findBusinessInfosByUserIDs(ctx, db, []string{userID})
		if err != nil {
			return err
		}
		if w[userID] == nil && b[userID] == nil {
			return models.InvalidInput("websiteAnalysis", "step 2 needs a website analysis (analyzeWebsite) or business information (createBusinessInfo)")
		}
	case models.StepResearch:
		p, err := findPreferencesByUserIDs(ctx, db, []string{userID})
		if err != nil {
			return err
		}
		if p[userID] == nil {
			return models.InvalidInput("researchPreferences", "step 3 needs research preferences (saveResearchPreferences)")
		}
	case models.StepPersona:
		p, err := findActivePersona(ctx, db, userID)
		if err != nil {
			return err
		}
		if p == nil {
			return models.InvalidInput("persona", "step 4 needs a generated persona (generatePersona), or skip it")
		}
	}
	return nil
}

// requiredDataReady checks the required steps' data still exists at completion:
// a key, website analysis, business information or preferences deleted after its
// step was completed would otherwise leave a completed onboarding without it.
func (s *Service) requiredDataReady(ctx context.Context, db bun.IDB, userID string) error {
	for _, step := range []models.Step{models.StepProviderKeys, models.StepWebsite, models.StepResearch} {
		if err := s.stepDataReady(ctx, db, userID, step); err != nil {
			return err
		}
	}
	return nil
}

// LiveKeyChecks reports whether keys are checked with their provider.
func (s *Service) LiveKeyChecks() bool { return s.LiveKeyCheck }

func (s *Service) hasValidatedLLMKey(keys []*models.ProviderKey) bool {
	return HasValidatedLLMKey(keys, s.LiveKeyCheck)
}

// HasValidatedLLMKey reports whether keys hold a validated key of an LLM provider.
func HasValidatedLLMKey(keys []*models.ProviderKey, live bool) bool {
	for _, k := range keys {
		if p, err := providers.Lookup(k.Provider); err == nil && p.Kind == models.ProviderLLM && k.Validated(live) {
			return true
		}
	}
	return false
}

func llmProviderIDs() []string {
	var ids []string
	for _, p := range providers.Registry() {
		if p.Kind == models.ProviderLLM {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

// SkipStep skips an optional step.
func (s *Service) SkipStep(ctx context.Context, userID string, step models.Step) (*models.OnboardingProgress, error) {
	if err := checkStep(step); err != nil {
		return nil, err
	}
	if step.Info().Required {
		return nil, models.InvalidInput("step", "step %d (%s) is required and cannot be skipped", step, step.Info().Title)
	}
	return s.changeProgress(ctx, userID, func(ctx context.Context, tx bun.Tx, p *models.OnboardingProgress, now time.Time) error {
		if missing := missingBefore(p, step); len(missing) > 0 {
			return unfinishedError(step, missing)
		}
		if p.IsCompleted() {
			return models.Errorf(models.CodeConflict, "onboarding is already complete: reset it to change steps")
		}
		st := p.Steps[step-1]
		if st.Status != models.StepSkipped {
			st.Status, st.SkippedAt, st.CompletedAt, st.UpdatedAt = models.StepSkipped, &now, nil, now
		}
		return nil
	})
}

// savedDataKinds names what the wizard saves, as reset reports it.
func savedDataKinds() []string {
	return []string{"provider keys", "website analysis", "business information", "research preferences", "integrations", "personas"}
}

// Reset clears the progress back to step 1. Saved data is kept unless deleteData,
// in which case it is deleted in the same transaction.
func (s *Service) Reset(ctx context.Context, userID string, deleteData bool) (*models.ResetResult, error) {
	p, err := s.changeProgress(ctx, userID, func(ctx context.Context, tx bun.Tx, p *models.OnboardingProgress, now time.Time) error {
		p.CompletedAt = nil
		p.StartedAt = &now
		for _, st := range p.Steps {
			st.Status, st.StartedAt, st.CompletedAt, st.SkippedAt, st.UpdatedAt = models.StepPending, nil, nil, nil, now
		}
		if deleteData {
			return deleteUserData(ctx, tx, userID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r := &models.ResetResult{Progress: p, DataDeleted: deleteData}
	if deleteData {
		r.Deleted = savedDataKinds()
	} else {
		r.Kept = savedDataKinds()
	}
	return r, nil
}

// Resume says which step a returning user should go to, and why.
func Resume(p *models.OnboardingProgress) *models.ResumeInfo {
	r := &models.ResumeInfo{Step: p.CurrentStep, Completed: p.IsCompleted()}
	for _, st := range p.Steps {
		if st.Step.Info().Required && st.Status != models.StepCompleted && st.Step != models.StepFinal {
			r.MissingSteps = append(r.MissingSteps, st.Step)
		}
	}
	info := p.CurrentStep.Info()
	switch {
	case r.Completed:
		r.Reason = "onboarding is complete"
	case p.StartedAt == nil:
		r.Reason = "onboarding has not started: begin with step 1 (" + info.Title + ")"
	case p.CurrentStep == models.StepFinal && len(r.MissingSteps) == 0:
		r.Reason = "every step is done: review the summary and complete onboarding"
	default:
		r.Reason = fmt.Sprintf("step %d (%s) is the first unfinished step", info.Step, info.Title)
	}
	return r
}

// Complete finishes onboarding: the required steps must be completed and a validated
// LLM key must exist. Optional steps left open are skipped, and a persona is generated
// when none is active and the inputs suffice. Completing again changes nothing.
func (s *Service) Complete(ctx context.Context, userID string) (*models.OnboardingProgress, error) {
	p, err := s.Progress(ctx, userID)
	if err != nil {
		return nil, err
	}
	if p.IsCompleted() {
		return p, nil
	}
	// Refuse early, before generation (an LLM call, perhaps seconds) is paid for;
	// the transaction checks again.
	if missing := missingBefore(p, models.StepFinal); len(missing) > 0 {
		return nil, incompleteError(missing)
	}
	if err := s.requiredDataReady(ctx, s.DB, userID); err != nil {
		return nil, err
	}
	// Generation must not run inside the transaction, which would hold the database
	// for as long as the LLM takes.
	draft, err := s.draftForCompletion(ctx, userID)
	if err != nil {
		return nil, err
	}
	return s.changeProgress(ctx, userID, func(ctx context.Context, tx bun.Tx, p *models.OnboardingProgress, now time.Time) error {
		if p.IsCompleted() {
			return errUnchanged // another request completed it meanwhile
		}
		if missing := missingBefore(p, models.StepFinal); len(missing) > 0 {
			return incompleteError(missing)
		}
		if err := s.requiredDataReady(ctx, tx, userID); err != nil {
			return err
		}
		if draft != nil {
			active, err := findActivePersona(ctx, tx, userID)
			if err != nil {
				return err
			}
			if active == nil {
				if _, err := savePersona(ctx, tx, userID, draft, now); err != nil {
					return err
				}
			}
		}
		for _, st := range p.Steps {
			switch {
			case st.Step == models.StepFinal:
				st.Status, st.CompletedAt, st.UpdatedAt = models.StepCompleted, &now, now
				if st.StartedAt == nil {
					st.StartedAt = &now
				}
			case !st.Status.Done():
				st.Status, st.SkippedAt, st.UpdatedAt = models.StepSkipped, &now, now
			}
		}
		p.CompletedAt = &now
		return nil
	})
}

func incompleteError(missing []models.Step) error {
	return models.InvalidInput("step", "onboarding cannot be completed before the required steps %s", describeSteps(missing))
}

// draftForCompletion generates the persona completion will save, or nil when one is
// already active or the inputs do not suffice (onboarding then completes without).
func (s *Service) draftForCompletion(ctx context.Context, userID string) (*models.PersonaDraft, error) {
	active, err := findActivePersona(ctx, s.DB, userID)
	if err != nil || active != nil {
		return nil, err
	}
	in, err := s.personaInput(ctx, userID, nil)
	if err != nil {
		return nil, err
	}
	if !persona.Readiness(in).Ready {
		return nil, nil //nolint:nilnil // not enough data: completion goes on without a persona
	}
	return s.Generator.Generate(ctx, in)
}

func (s *Service) notify(ctx context.Context, userID string) {
	if err := s.Events.Publish(context.WithoutCancel(ctx), progressTopic(userID), []byte("{}")); err != nil {
		s.Logger.ErrorContext(ctx, "publish onboarding progress", "error", err, "user_id", userID)
	}
}

func progressTopic(userID string) string { return "onboarding." + userID }

// ProgressEvents streams the user's progress now and after every change to their
// onboarding, from any server instance, until ctx ends. Each event carries the progress as it is
// when the subscriber reads it, so a burst of changes can arrive as fewer events but
// the last one is always current.
func (s *Service) ProgressEvents(ctx context.Context, userID string) (<-chan *models.OnboardingProgress, error) {
	in, err := s.Events.Subscribe(ctx, progressTopic(userID))
	if err != nil {
		return nil, models.Internal(err, "subscribe to onboarding progress")
	}
	out := make(chan *models.OnboardingProgress, 1)
	go func() {
		defer close(out)
		// The current state first, read after the subscription is in place: a change
		// made before it would otherwise never be shown.
		if p, err := findProgress(ctx, s.DB, userID); err == nil {
			select {
			case out <- p:
			case <-ctx.Done():
				return
			}
		} else if ctx.Err() == nil {
			s.Logger.ErrorContext(ctx, "read onboarding progress for subscriber", "error", err)
		}
		for range in {
			// Coalesce what queued up meanwhile: one read answers all of it.
			for drained := false; !drained; {
				select {
				case _, ok := <-in:
					if !ok {
						return
					}
				default:
					drained = true
				}
			}
			p, err := findProgress(ctx, s.DB, userID)
			if err != nil {
				if ctx.Err() == nil {
					s.Logger.ErrorContext(ctx, "read onboarding progress for subscriber", "error", err)
				}
				continue
			}
			select {
			case out <- p:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
