package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/internal/persona"
	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// Progress returns the user's progress; a user who never started gets an unstarted one.
func (s *Service) Progress(ctx context.Context, userID string) (*models.OnboardingProgress, error) {
	return s.Summary(userID).Progress(ctx)
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
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		p, err := s.stmts.findProgress(ctx, tx, userID)
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
		if err := stepDataReady(ctx, s.summaryIn(tx, userID), step); err != nil {
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
func stepDataReady(ctx context.Context, m *Summary, step models.Step) error {
	switch step {
	case models.StepProviderKeys:
		ok, err := m.HasValidatedKey(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return models.InvalidInput("providerKeys", "step 1 needs at least one validated LLM provider key (%s)", strings.Join(llmProviderIDs(), ", "))
		}
	case models.StepWebsite:
		w, err := m.WebsiteAnalysis(ctx)
		if err != nil {
			return err
		}
		b, err := m.BusinessInfo(ctx)
		if err != nil {
			return err
		}
		if w == nil && b == nil {
			return models.InvalidInput("websiteAnalysis", "step 2 needs a website analysis (analyzeWebsite) or business information (createBusinessInfo)")
		}
	case models.StepResearch:
		p, err := m.ResearchPreferences(ctx)
		if err != nil {
			return err
		}
		if p == nil {
			return models.InvalidInput("researchPreferences", "step 3 needs research preferences (saveResearchPreferences)")
		}
	case models.StepPersona:
		_, err := findActivePersona(ctx, m.db, m.userID)
		if models.ErrorCode(err) == models.CodeNotFound {
			return models.InvalidInput("persona", "step 4 needs a generated persona (generatePersona), or skip it")
		}
		return err
	}
	return nil
}

// requiredDataReady checks the required steps' data still exists at completion:
// a key, website analysis, business information or preferences deleted after its
// step was completed would otherwise leave a completed onboarding without it.
func requiredDataReady(ctx context.Context, m *Summary) error {
	for _, step := range []models.Step{models.StepProviderKeys, models.StepWebsite, models.StepResearch} {
		if err := stepDataReady(ctx, m, step); err != nil {
			return err
		}
	}
	return nil
}

// LiveKeyChecks reports whether keys are checked with their provider.
func (s *Service) LiveKeyChecks() bool { return s.LiveKeyCheck }

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
	m := s.Summary(userID)
	p, err := m.Progress(ctx)
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
	if err := requiredDataReady(ctx, m); err != nil {
		return nil, err
	}
	// Generation must not run inside the transaction, which would hold the database
	// for as long as the LLM takes.
	in, generate, err := s.completionPersona(ctx, m)
	if err != nil {
		return nil, err
	}
	var draft *models.PersonaDraft
	if generate {
		if draft, err = s.Generator.Generate(ctx, in); err != nil {
			return nil, err
		}
	}
	return s.changeProgress(ctx, userID, func(ctx context.Context, tx bun.Tx, p *models.OnboardingProgress, now time.Time) error {
		if p.IsCompleted() {
			return errUnchanged // another request completed it meanwhile
		}
		if missing := missingBefore(p, models.StepFinal); len(missing) > 0 {
			return incompleteError(missing)
		}
		if err := requiredDataReady(ctx, s.summaryIn(tx, userID)); err != nil {
			return err
		}
		if generate {
			// Saved unless a persona became active meanwhile.
			if _, err := findActivePersona(ctx, tx, userID); models.ErrorCode(err) == models.CodeNotFound {
				if _, err := savePersona(ctx, tx, userID, draft, now); err != nil {
					return err
				}
			} else if err != nil {
				return err
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

// completionPersona says whether completion generates a persona, and from what: not
// when one is already active, nor when the inputs do not suffice (onboarding then
// completes without one).
func (s *Service) completionPersona(ctx context.Context, m *Summary) (in persona.Input, generate bool, err error) {
	if _, err = findActivePersona(ctx, m.db, m.userID); err == nil {
		return persona.Input{}, false, nil // one is active already
	} else if models.ErrorCode(err) != models.CodeNotFound {
		return persona.Input{}, false, err
	}
	if in, err = m.personaInput(ctx, nil); err != nil {
		return persona.Input{}, false, err
	}
	return in, persona.Readiness(in).Ready, nil
}
