package onboarding_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func TestNewServiceRequiresItsParts(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		for _, tc := range []struct {
			name   string
			change func(*onboarding.Deps)
		}{
			{"no DB", func(d *onboarding.Deps) { d.DB = nil }},
			{"no ring", func(d *onboarding.Deps) { d.Ring = nil }},
			{"no website analyzer", func(d *onboarding.Deps) { d.Website = nil }},
			{"no generator", func(d *onboarding.Deps) { d.Generator = nil }},
			{"no tiers", func(d *onboarding.Deps) { d.Tiers = nil }},
			{"no events", func(d *onboarding.Deps) { d.Events = nil }},
			{"live checks without a verifier", func(d *onboarding.Deps) { d.LiveKeyCheck, d.Verifier = true, nil }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				d := f.deps
				tc.change(&d)
				svc, err := onboarding.NewService(d)
				require.Error(t, err)
				require.Nil(t, svc)
			})
		}

		t.Run("config lists required and optional steps", func(t *testing.T) {
			c := f.svc.Config()
			require.Equal(t, []models.Step{1, 2, 3, 6}, c.RequiredSteps)
			require.Equal(t, []models.Step{4, 5}, c.OptionalSteps)
			require.Len(t, c.Steps, models.StepCount)
			require.False(t, c.LiveKeyCheck)
		})
	})
}

func TestSteps(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()

		t.Run("a user who never started has an unstarted progress", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			p := f.progress(t, u)
			require.Equal(t, u, p.UserID)
			require.Nil(t, p.StartedAt)
			require.Nil(t, p.CompletedAt)
			require.Equal(t, models.StepProviderKeys, p.CurrentStep)
			require.Len(t, p.Steps, models.StepCount)
			for i, s := range p.Steps {
				require.Equal(t, models.Step(i+1), s.Step)
				require.Equal(t, models.StepPending, s.Status)
			}
			require.Zero(t, p.Percentage())
			require.Zero(t, f.count(t, "onboarding_progress", u), "reading progress writes nothing")

			r := onboarding.Resume(p)
			require.Equal(t, models.StepProviderKeys, r.Step)
			require.False(t, r.Completed)
			require.Equal(t, []models.Step{1, 2, 3}, r.MissingSteps)
			require.Contains(t, r.Reason, "has not started")
		})

		t.Run("start is idempotent", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			t0 := f.clock.Now()
			p, err := f.svc.Start(ctx, u)
			require.NoError(t, err)
			requireTime(t, t0, p.StartedAt)
			require.Equal(t, models.StepProviderKeys, p.CurrentStep)
			require.Equal(t, []models.StepStatus{"IN_PROGRESS", "PENDING", "PENDING", "PENDING", "PENDING", "PENDING"}, statuses(p))
			requireTime(t, t0, p.Steps[0].StartedAt)

			f.clock.Add(time.Hour)
			again, err := f.svc.Start(ctx, u)
			require.NoError(t, err)
			requireTime(t, t0, again.StartedAt, "a second start keeps the first start time")
			requireTime(t, t0, again.Steps[0].StartedAt)
			require.Equal(t, statuses(p), statuses(again))

			stored := f.progress(t, u)
			requireTime(t, t0, stored.StartedAt)
			require.Equal(t, statuses(p), statuses(stored))
			require.Equal(t, 1, f.count(t, "onboarding_progress", u))
			require.Equal(t, models.StepCount, f.count(t, "onboarding_steps", u))
		})

		t.Run("steps out of range are refused", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			for _, step := range []models.Step{0, -1, 7, 100} {
				_, err := f.svc.CompleteStep(ctx, u, step)
				testkit.RequireCode(t, err, models.CodeBadUserInput, "step")
				_, err = f.svc.SkipStep(ctx, u, step)
				testkit.RequireCode(t, err, models.CodeBadUserInput, "step")
			}
			require.Nil(t, f.progress(t, u).StartedAt)
		})

		t.Run("a step cannot be completed before the required steps before it", func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct {
				step       models.Step
				names, not []string
			}{
				{models.StepWebsite, []string{"1 (Provider API keys)"}, []string{"2 ("}},
				{models.StepResearch, []string{"1 (Provider API keys)", "2 (Website analysis or business information)"}, []string{"3 ("}},
				{models.StepPersona, []string{"1 (", "2 (", "3 (Research preferences)"}, nil},
			} {
				t.Run(tc.step.Info().Key, func(t *testing.T) {
					t.Parallel()
					f := newFixture(t, db)
					u := f.user(t, models.TierFree)
					// The step's own data is there: only the order stops it.
					f.business(t, u)
					f.prefs(t, u)
					_, err := f.svc.Start(ctx, u)
					require.NoError(t, err)
					before := f.progress(t, u)

					f.clock.Add(time.Minute)
					_, err = f.svc.CompleteStep(ctx, u, tc.step)
					e := testkit.RequireCode(t, err, models.CodeBadUserInput, "step")
					for _, n := range tc.names {
						require.Contains(t, e.Message, n)
					}
					for _, n := range tc.not {
						require.NotContains(t, e.Message, n)
					}
					require.Equal(t, before, f.progress(t, u), "a refused step changes nothing")
				})
			}
		})

		t.Run("a user that does not exist is not found", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			f.tiers.Set("no-such-user", models.TierPro)
			_, err := f.svc.Start(ctx, "no-such-user")
			testkit.RequireCode(t, err, models.CodeNotFound, "")
			_, err = f.svc.SaveProviderKey(ctx, "no-such-user", "tavily", tavilyKey)
			testkit.RequireCode(t, err, models.CodeNotFound, "")
		})

		t.Run("a refused step leaves an unstarted user unstarted", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			_, err := f.svc.CompleteStep(ctx, u, models.StepResearch)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "step")
			require.Nil(t, f.progress(t, u).StartedAt)
			require.Zero(t, f.count(t, "onboarding_progress", u))
			require.Zero(t, f.count(t, "onboarding_steps", u))
		})

		t.Run("each required step needs its own data", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)

			_, err := f.svc.CompleteStep(ctx, u, models.StepProviderKeys)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "providerKeys")
			// A research provider's key is no LLM key.
			f.saveKey(t, u, "tavily", tavilyKey)
			_, err = f.svc.CompleteStep(ctx, u, models.StepProviderKeys)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "providerKeys")
			f.saveKey(t, u, "openai", openaiKey)
			f.completeStep(t, u, models.StepProviderKeys)

			before := f.progress(t, u)
			_, err = f.svc.CompleteStep(ctx, u, models.StepWebsite)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "websiteAnalysis")
			require.Equal(t, before, f.progress(t, u))
			f.business(t, u)
			f.completeStep(t, u, models.StepWebsite)

			before = f.progress(t, u)
			_, err = f.svc.CompleteStep(ctx, u, models.StepResearch)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "researchPreferences")
			require.Equal(t, before, f.progress(t, u))
			f.prefs(t, u)
			f.completeStep(t, u, models.StepResearch)

			_, err = f.svc.CompleteStep(ctx, u, models.StepPersona)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "persona")
			_, err = f.svc.GeneratePersona(ctx, u, nil)
			require.NoError(t, err)
			p := f.completeStep(t, u, models.StepPersona)
			require.Equal(t, models.StepCompleted, p.Steps[models.StepPersona-1].Status)
		})

		t.Run("a website analysis is enough for step 2", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.saveKey(t, u, "openai", openaiKey)
			f.completeStep(t, u, models.StepProviderKeys)
			_, err := f.svc.AnalyzeWebsite(ctx, u, f.site.URL)
			require.NoError(t, err)
			p := f.completeStep(t, u, models.StepWebsite)
			require.Equal(t, models.StepCompleted, p.Steps[1].Status)
		})

		t.Run("required steps cannot be skipped, optional ones can once steps 1 to 3 are done", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			for _, step := range []models.Step{1, 2, 3, 6} {
				_, err := f.svc.SkipStep(ctx, u, step)
				e := testkit.RequireCode(t, err, models.CodeBadUserInput, "step")
				require.Contains(t, e.Message, "required")
			}
			_, err := f.svc.SkipStep(ctx, u, models.StepPersona)
			e := testkit.RequireCode(t, err, models.CodeBadUserInput, "step")
			require.Contains(t, e.Message, "1 (Provider API keys)")
			require.Nil(t, f.progress(t, u).StartedAt)

			f.throughStep3(t, u)
			t4 := f.clock.Add(time.Minute)
			p, err := f.svc.SkipStep(ctx, u, models.StepIntegrations)
			require.NoError(t, err)
			require.Equal(t, models.StepSkipped, p.Steps[4].Status)
			requireTime(t, t4, p.Steps[4].SkippedAt)
			require.Equal(t, models.StepPersona, p.CurrentStep, "step 4 is still open")

			t5 := f.clock.Add(time.Minute)
			p, err = f.svc.SkipStep(ctx, u, models.StepPersona)
			require.NoError(t, err)
			require.Equal(t, models.StepSkipped, p.Steps[3].Status)
			requireTime(t, t5, p.Steps[3].SkippedAt)
			require.Nil(t, p.Steps[3].CompletedAt)
			require.Equal(t, models.StepFinal, p.CurrentStep)
			require.Equal(t, models.StepInProgress, p.Steps[5].Status)
			require.InDelta(t, 500.0/6, p.Percentage(), 0.001)

			// Skipping again keeps the first skip.
			f.clock.Add(time.Minute)
			p, err = f.svc.SkipStep(ctx, u, models.StepPersona)
			require.NoError(t, err)
			requireTime(t, t5, p.Steps[3].SkippedAt)
		})

		t.Run("completing steps advances the current step, the percentage and the timestamps", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			t0 := f.clock.Now()
			_, err := f.svc.Start(ctx, u)
			require.NoError(t, err)
			f.saveKey(t, u, "openai", openaiKey)

			t1 := f.clock.Add(time.Minute)
			p := f.completeStep(t, u, models.StepProviderKeys)
			require.Equal(t, models.StepWebsite, p.CurrentStep)
			require.Equal(t, []models.StepStatus{"COMPLETED", "IN_PROGRESS", "PENDING", "PENDING", "PENDING", "PENDING"}, statuses(p))
			requireTime(t, t0, p.Steps[0].StartedAt)
			requireTime(t, t1, p.Steps[0].CompletedAt)
			requireTime(t, t1, p.Steps[1].StartedAt)
			require.InDelta(t, 100.0/6, p.Percentage(), 0.001)
			require.True(t, t1.Equal(p.UpdatedAt))

			stored := f.progress(t, u)
			require.Equal(t, statuses(p), statuses(stored))
			require.Equal(t, p.CurrentStep, stored.CurrentStep)
			requireTime(t, t1, stored.Steps[0].CompletedAt)
			requireTime(t, t0, stored.StartedAt)

			r := onboarding.Resume(stored)
			require.Equal(t, models.StepWebsite, r.Step)
			require.Equal(t, []models.Step{2, 3}, r.MissingSteps)
			require.Equal(t, "step 2 (Website analysis or business information) is the first unfinished step", r.Reason)

			// Completing a completed step again keeps its first completion.
			f.clock.Add(time.Minute)
			p = f.completeStep(t, u, models.StepProviderKeys)
			requireTime(t, t1, p.Steps[0].CompletedAt)

			f.business(t, u)
			f.completeStep(t, u, models.StepWebsite)
			f.prefs(t, u)
			t3 := f.clock.Add(time.Minute)
			p = f.completeStep(t, u, models.StepResearch)
			require.Equal(t, models.StepPersona, p.CurrentStep)
			require.InDelta(t, 50.0, p.Percentage(), 0.001)
			requireTime(t, t3, p.Steps[2].CompletedAt)

			for _, step := range []models.Step{models.StepPersona, models.StepIntegrations} {
				_, err = f.svc.SkipStep(ctx, u, step)
				require.NoError(t, err)
			}
			r = onboarding.Resume(f.progress(t, u))
			require.Equal(t, models.StepFinal, r.Step)
			require.Empty(t, r.MissingSteps)
			require.False(t, r.Completed)
			require.Contains(t, r.Reason, "every step is done")
		})
	})
}

func TestComplete(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()

		t.Run("refused while required steps are missing, and nothing changes", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.saveKey(t, u, "openai", openaiKey)
			f.completeStep(t, u, models.StepProviderKeys)
			// Enough data for a persona, but steps 2 and 3 are not completed.
			f.business(t, u)
			f.prefs(t, u)
			before := f.progress(t, u)

			for name, complete := range map[string]func() (*models.OnboardingProgress, error){
				"Complete":      func() (*models.OnboardingProgress, error) { return f.svc.Complete(ctx, u) },
				"CompleteStep6": func() (*models.OnboardingProgress, error) { return f.svc.CompleteStep(ctx, u, models.StepFinal) },
			} {
				t.Run(name, func(t *testing.T) {
					_, err := complete()
					e := testkit.RequireCode(t, err, models.CodeBadUserInput, "step")
					require.Contains(t, e.Message, "2 (Website analysis or business information)")
					require.Contains(t, e.Message, "3 (Research preferences)")
					require.NotContains(t, e.Message, "1 (")
					require.Equal(t, before, f.progress(t, u))
					require.Empty(t, f.personas(t, u))
				})
			}
		})

		t.Run("refused when the LLM key of step 1 was deleted since", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.throughStep3(t, u)
			ok, err := f.svc.DeleteProviderKey(ctx, u, "openai")
			require.NoError(t, err)
			require.True(t, ok)
			before := f.progress(t, u)
			_, err = f.svc.Complete(ctx, u)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "providerKeys")
			require.Equal(t, before, f.progress(t, u))
			require.Empty(t, f.personas(t, u))
		})

		t.Run("refused when step 2's business information was deleted since", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.throughStep3(t, u)
			ok, err := f.svc.DeleteBusinessInfo(ctx, u)
			require.NoError(t, err)
			require.True(t, ok)
			before := f.progress(t, u)
			_, err = f.svc.Complete(ctx, u)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "websiteAnalysis")
			require.Equal(t, before, f.progress(t, u))
			require.Empty(t, f.personas(t, u))
		})

		t.Run("completes after steps 1 to 3, skips open optional steps and generates a persona", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.throughStep3(t, u)
			done := f.clock.Add(time.Minute)
			p, err := f.svc.Complete(ctx, u)
			require.NoError(t, err)
			require.True(t, p.IsCompleted())
			requireTime(t, done, p.CompletedAt)
			require.Equal(t, []models.StepStatus{"COMPLETED", "COMPLETED", "COMPLETED", "SKIPPED", "SKIPPED", "COMPLETED"}, statuses(p))
			requireTime(t, done, p.Steps[3].SkippedAt)
			requireTime(t, done, p.Steps[4].SkippedAt)
			requireTime(t, done, p.Steps[5].CompletedAt)
			require.Equal(t, models.StepFinal, p.CurrentStep)
			require.InDelta(t, 100.0, p.Percentage(), 0.001)

			stored := f.progress(t, u)
			require.Equal(t, statuses(p), statuses(stored))
			requireTime(t, done, stored.CompletedAt)

			ps := f.personas(t, u)
			require.Len(t, ps, 1)
			require.Equal(t, models.PersonaFromRules, ps[0].Source)
			require.True(t, ps[0].Active)
			require.Equal(t, 1, ps[0].Version)
			require.Equal(t, u, ps[0].UserID)
			require.True(t, done.Equal(ps[0].CreatedAt))

			r := onboarding.Resume(stored)
			require.True(t, r.Completed)
			require.Empty(t, r.MissingSteps)
			require.Equal(t, "onboarding is complete", r.Reason)

			t.Run("completing again changes nothing", func(t *testing.T) {
				f.clock.Add(time.Hour)
				again, err := f.svc.Complete(ctx, u)
				require.NoError(t, err)
				requireTime(t, done, again.CompletedAt)
				again, err = f.svc.CompleteStep(ctx, u, models.StepFinal)
				require.NoError(t, err)
				requireTime(t, done, again.CompletedAt)
				require.Len(t, f.personas(t, u), 1)
				require.Equal(t, stored, f.progress(t, u))
			})

			t.Run("steps cannot change after completion", func(t *testing.T) {
				for _, step := range []models.Step{1, 2, 3, 4, 5} {
					_, err := f.svc.CompleteStep(ctx, u, step)
					testkit.RequireCode(t, err, models.CodeConflict, "")
				}
				for _, step := range []models.Step{4, 5} {
					_, err := f.svc.SkipStep(ctx, u, step)
					testkit.RequireCode(t, err, models.CodeConflict, "")
				}
				require.Equal(t, stored, f.progress(t, u))
			})
		})

		t.Run("does not generate a persona when one is active", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.throughStep3(t, u)
			mine, err := f.svc.GeneratePersona(ctx, u, []models.Platform{"X"})
			require.NoError(t, err)
			_, err = f.svc.Complete(ctx, u)
			require.NoError(t, err)
			ps := f.personas(t, u)
			require.Len(t, ps, 1)
			require.Equal(t, mine.ID, ps[0].ID)
			require.True(t, ps[0].Active)
		})

		t.Run("step 6 is completing the onboarding", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.throughStep3(t, u)
			p := f.completeStep(t, u, models.StepFinal)
			require.True(t, p.IsCompleted())
			require.Equal(t, []models.StepStatus{"COMPLETED", "COMPLETED", "COMPLETED", "SKIPPED", "SKIPPED", "COMPLETED"}, statuses(p))
			require.Len(t, f.personas(t, u), 1)
		})

		t.Run("completes without a persona when the website has too little text", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.saveKey(t, u, "openai", openaiKey)
			f.completeStep(t, u, models.StepProviderKeys)
			_, err := f.svc.AnalyzeWebsite(ctx, u, f.site.URL+"/thin")
			require.NoError(t, err)
			f.completeStep(t, u, models.StepWebsite)
			f.prefs(t, u)
			f.completeStep(t, u, models.StepResearch)
			p, err := f.svc.Complete(ctx, u)
			require.NoError(t, err)
			require.True(t, p.IsCompleted())
			require.Empty(t, f.personas(t, u))
		})
	})
}

func TestReset(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		kinds := []string{"provider keys", "website analysis", "business information", "research preferences", "integrations", "personas"}

		// setUp completes onboarding with every kind of data saved.
		setUp := func(t *testing.T) (*fixture, string) {
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.throughStep3(t, u)
			_, err := f.svc.AnalyzeWebsite(ctx, u, f.site.URL)
			require.NoError(t, err)
			_, err = f.svc.SetIntegrations(ctx, u, []string{"WORDPRESS"})
			require.NoError(t, err)
			_, err = f.svc.Complete(ctx, u)
			require.NoError(t, err)
			for table, n := range f.counts(t, u) {
				require.Equal(t, 1, n, table)
			}
			return f, u
		}

		requireRestarted := func(t *testing.T, p *models.OnboardingProgress, at time.Time) {
			t.Helper()
			require.Nil(t, p.CompletedAt)
			requireTime(t, at, p.StartedAt)
			require.Equal(t, models.StepProviderKeys, p.CurrentStep)
			require.Equal(t, []models.StepStatus{"IN_PROGRESS", "PENDING", "PENDING", "PENDING", "PENDING", "PENDING"}, statuses(p))
			for _, s := range p.Steps[1:] {
				require.Nil(t, s.StartedAt)
				require.Nil(t, s.CompletedAt)
				require.Nil(t, s.SkippedAt)
			}
			require.Zero(t, p.Percentage())
		}

		t.Run("keeping the data", func(t *testing.T) {
			t.Parallel()
			f, u := setUp(t)
			at := f.clock.Add(time.Hour)
			r, err := f.svc.Reset(ctx, u, false)
			require.NoError(t, err)
			require.False(t, r.DataDeleted)
			require.ElementsMatch(t, kinds, r.Kept)
			require.Empty(t, r.Deleted)
			requireRestarted(t, r.Progress, at)
			requireRestarted(t, f.progress(t, u), at)
			for table, n := range f.counts(t, u) {
				require.Equal(t, 1, n, table)
			}
			plain, _, err := f.svc.RevealProviderKey(ctx, u, "openai")
			require.NoError(t, err)
			require.Equal(t, openaiKey, plain)
			require.True(t, f.personas(t, u)[0].Active)
		})

		t.Run("results do not share their lists", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			// Checked by identity rather than by writing through one result: a shared
			// list would carry the write into every later reset in the process.
			for _, deleteData := range []bool{false, true} {
				r1, err := f.svc.Reset(ctx, u, deleteData)
				require.NoError(t, err)
				r2, err := f.svc.Reset(ctx, u, deleteData)
				require.NoError(t, err)
				l1, l2 := append(r1.Kept, r1.Deleted...), append(r2.Kept, r2.Deleted...)
				require.ElementsMatch(t, kinds, l1)
				if deleteData {
					require.NotSame(t, &r1.Deleted[0], &r2.Deleted[0], "a caller changing one result changes the next")
				} else {
					require.NotSame(t, &r1.Kept[0], &r2.Kept[0], "a caller changing one result changes the next")
				}
				require.Equal(t, l1, l2)
			}
		})

		t.Run("deleting the data", func(t *testing.T) {
			t.Parallel()
			f, u := setUp(t)
			at := f.clock.Add(time.Hour)
			r, err := f.svc.Reset(ctx, u, true)
			require.NoError(t, err)
			require.True(t, r.DataDeleted)
			require.ElementsMatch(t, kinds, r.Deleted)
			require.Empty(t, r.Kept)
			requireRestarted(t, r.Progress, at)
			requireRestarted(t, f.progress(t, u), at)
			for table, n := range f.counts(t, u) {
				require.Zero(t, n, table)
			}
			_, _, err = f.svc.RevealProviderKey(ctx, u, "openai")
			testkit.RequireCode(t, err, models.CodeNotFound, "")
			_, err = f.svc.CompleteStep(ctx, u, models.StepProviderKeys)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "providerKeys")
		})
	})
}

func TestProgressEvents(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		u := f.user(t, models.TierFree)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch, err := f.svc.ProgressEvents(ctx, u)
		require.NoError(t, err)

		// next waits for an event whose progress satisfies ok; a burst may be coalesced.
		next := func(t *testing.T, ok func(*models.OnboardingProgress) bool) *models.OnboardingProgress {
			t.Helper()
			timeout := time.After(10 * time.Second)
			for {
				select {
				case p, open := <-ch:
					require.True(t, open, "the stream closed early")
					require.Equal(t, u, p.UserID)
					if ok(p) {
						return p
					}
				case <-timeout:
					t.Fatal("no matching progress event")
				}
			}
		}

		// The current state comes first; only then is the key saved, so the event
		// that follows can only be the key's.
		initial := next(t, func(*models.OnboardingProgress) bool { return true })
		require.Nil(t, initial.StartedAt)
		f.saveKey(t, u, "openai", openaiKey)
		p := next(t, func(*models.OnboardingProgress) bool { return true })
		require.Nil(t, p.StartedAt, "saving a key does not start the wizard")

		f.completeStep(t, u, models.StepProviderKeys)
		p = next(t, func(p *models.OnboardingProgress) bool { return p.Steps[0].Status == models.StepCompleted })
		require.Equal(t, models.StepWebsite, p.CurrentStep)
		require.NotNil(t, p.StartedAt)

		cancel()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case _, open := <-ch:
				if !open {
					return
				}
			case <-timeout:
				t.Fatal("the stream did not close after its context ended")
			}
		}
	})
}
