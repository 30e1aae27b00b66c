package onboarding_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func TestSummary(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()

		t.Run("a user who entered nothing: unstarted, nothing entered, the account's tier", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierPro)
			m := f.svc.Summary(u)
			p, err := m.Progress(ctx)
			require.NoError(t, err)
			require.Nil(t, p.StartedAt)
			require.Len(t, p.Steps, models.StepCount)
			w, err := m.WebsiteAnalysis(ctx)
			require.NoError(t, err)
			require.Nil(t, w)
			b, err := m.BusinessInfo(ctx)
			require.NoError(t, err)
			require.Nil(t, b)
			r, err := m.ResearchPreferences(ctx)
			require.NoError(t, err)
			require.Nil(t, r)
			tier, err := m.Tier(ctx)
			require.NoError(t, err)
			require.Equal(t, models.TierPro, tier)
			ps, err := m.PersonaVersions(ctx)
			require.NoError(t, err)
			require.Empty(t, ps)
		})

		t.Run("the one-row read gives what the tables hold", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.throughStep3(t, u)
			m := f.svc.Summary(u)
			b, err := m.BusinessInfo(ctx)
			require.NoError(t, err)
			require.Equal(t, stored[models.BusinessInfo](t, db, u), b)
			r, err := m.ResearchPreferences(ctx)
			require.NoError(t, err)
			require.Equal(t, stored[models.ResearchPreferences](t, db, u), r)
			p, err := m.Progress(ctx)
			require.NoError(t, err)
			row := stored[models.OnboardingProgress](t, db, u)
			require.Equal(t, row.UpdatedAt, p.UpdatedAt)
			require.Equal(t, row.StartedAt, p.StartedAt)
			require.Equal(t, models.StepPersona, p.CurrentStep)
			require.Equal(t, models.StepCompleted, p.Steps[models.StepResearch-1].Status)
		})

		t.Run("an account that does not exist: no onboarding, and its plan is NOT_FOUND", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			m := f.svc.Summary("no-such-user-" + testkit.RandomHex(4))
			p, err := m.Progress(ctx)
			require.NoError(t, err)
			require.Nil(t, p.StartedAt)
			w, err := m.WebsiteAnalysis(ctx)
			require.NoError(t, err)
			require.Nil(t, w)
			_, err = m.Tier(ctx)
			testkit.RequireCode(t, err, models.CodeNotFound)
		})

		t.Run("persona versions carry details on the active version only", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.throughStep3(t, u)
			var made []*models.Persona
			for range 3 {
				p, err := f.svc.GeneratePersona(ctx, u, []models.Platform{"LINKEDIN"})
				require.NoError(t, err)
				made = append(made, p)
			}
			_, err := f.svc.SetActivePersona(ctx, u, made[1].ID)
			require.NoError(t, err)

			full, err := f.svc.Summary(u).Personas(ctx)
			require.NoError(t, err)
			m := f.svc.Summary(u)
			versions, err := m.PersonaVersions(ctx)
			require.NoError(t, err)
			require.Len(t, versions, 3)
			for i, v := range versions {
				require.Equal(t, full[i].ID, v.ID, "newest first, as Personas")
				require.Equal(t, full[i].Version, v.Version)
				require.Equal(t, full[i].Active, v.Active)
				require.Equal(t, full[i].Source, v.Source)
				require.Equal(t, full[i].CreatedAt, v.CreatedAt)
				if v.Active {
					require.Equal(t, full[i], v, "the active version in full")
				} else {
					require.NotEmpty(t, full[i].Core.Name)
					require.Empty(t, v.Core.Name, "no details on an inactive version")
					require.Empty(t, v.PlatformPersonas)
				}
			}
			active, err := m.ActivePersona(ctx)
			require.NoError(t, err)
			require.Equal(t, made[1].ID, active.ID)
			require.Equal(t, made[1].Core, active.Core)
		})
	})
}

// stored reads the user's row of T straight from its table.
func stored[T any](t *testing.T, db bun.IDB, userID string) *T {
	t.Helper()
	row := new(T)
	require.NoError(t, db.NewSelect().Model(row).Where("user_id = ?", userID).Scan(context.Background()))
	return row
}
