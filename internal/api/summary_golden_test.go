package api_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	inkgraph "github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// updateGolden rewrites the golden summaries from the code as it is:
//
//	go test ./internal/api/ -run TestOnboardingSummaryGolden -update-golden
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/summary-*.json from the current code")

// TestOnboardingSummaryGolden pins the summary's answer byte for byte: the same
// deterministic data (fixed clock, fixed IDs where the answer shows them) on both
// dialects gives exactly the bytes in testdata, so a change in how the summary is
// read (statements, loaders, decoding) cannot change what a client sees.
func TestOnboardingSummaryGolden(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			clock := testkit.NewClock(time.Time{})
			a := startAppWith(t, testkit.DatabaseURL(t, d), wiring{
				services: func(svc *inkgraph.Services, _ *bun.DB) { svc.Wizard.Now = clock.Now },
			}, withoutRateLimits)
			siteURL := site(t, sitePage)
			for _, n := range []int{1, 50} {
				token := seedGolden(t, a, clock, siteURL, n)
				got := a.raw(t, token, summaryQuery)
				require.NotContains(t, got, `"errors"`, got)
				path := filepath.Join("testdata", fmt.Sprintf("summary-%d-personas.json", n))
				if *updateGolden && d == testkit.SQLite {
					require.NoError(t, os.WriteFile(path, []byte(got+"\n"), 0o644))
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "generate with -update-golden")
				require.Equal(t, strings.TrimSuffix(string(want), "\n"), got, "the summary of %d personas", n)
			}
		})
	}
}

// seedGolden walks a fresh team-tier user through every step with the clock moving
// a whole minute per change: every provider's key when personas > 1 (one key
// otherwise), website, preferences, business information, personas versions
// (fixed IDs) and integrations, then completion. It returns the user's token.
const goldenSite = "https://acme.example/"

func seedGolden(t *testing.T, a *app, clock *testkit.Clock, siteURL string, personas int) string {
	t.Helper()
	ctx := context.Background()
	tick := func() { clock.Add(time.Minute) }
	clock.Set(testkit.DefaultTime)
	token, _, userID := a.register(t, fmt.Sprintf("golden-%d@example.com", personas))
	_, err := a.db.NewUpdate().Table("users").Set("tier = ?", models.TierTeam).Where("id = ?", userID).Exec(ctx)
	require.NoError(t, err)

	w := a.wizard
	_, err = w.Start(ctx, userID)
	require.NoError(t, err)
	keys := [][2]string{{"openai", openAIKey}}
	if personas > 1 {
		keys = append(keys, [][2]string{
			{"anthropic", "sk-ant-abcdefghijklmnopqrstuvwxyz012345"},
			{"gemini", "AIza" + strings.Repeat("b", 35)},
			{"mistral", strings.Repeat("c", 32)},
			{"tavily", "tvly-abcdefghijklmnopqrstuvwxyz"},
			{"serper", strings.Repeat("d", 40)},
			{"exa", strings.Repeat("e", 36)},
		}...)
	}
	for _, k := range keys {
		tick()
		_, err := w.SaveProviderKey(ctx, userID, k[0], k[1])
		require.NoError(t, err, k[0])
	}
	tick()
	_, err = w.CompleteStep(ctx, userID, models.StepProviderKeys)
	require.NoError(t, err)

	tick()
	_, err = w.AnalyzeWebsite(ctx, userID, siteURL)
	require.NoError(t, err)
	// The test site's port changes from run to run; the answer shows the URL.
	_, err = a.db.NewUpdate().Table("website_analyses").Set("url = ?, final_url = ?", goldenSite, goldenSite).
		Where("user_id = ?", userID).Exec(ctx)
	require.NoError(t, err)
	tick()
	_, err = w.CompleteStep(ctx, userID, 2)
	require.NoError(t, err)

	tick()
	audience := "founders of small SaaS companies"
	_, err = w.SaveResearchPreferences(ctx, userID, onboarding.PreferencesInput{
		Depth: "COMPREHENSIVE", ContentTypes: []models.ContentType{"BLOG_POST", "SOCIAL_POST"},
		AutoResearch: true, TargetAudience: audience, WritingTone: "FRIENDLY", Language: "en",
	})
	require.NoError(t, err)
	tick()
	name, desc, industry := "Acme Analytics", "Analytics for small teams.", "Software"
	_, err = w.CreateBusinessInfo(ctx, userID, onboarding.BusinessInfoInput{
		BusinessName: &name, Description: &desc, Industry: &industry, TargetAudience: &audience,
		BusinessGoals: []string{"grow signups", "retain teams"}, Products: []string{"Acme Reports"},
	})
	require.NoError(t, err)
	_, err = a.db.NewUpdate().Table("business_infos").Set("id = ?", fmt.Sprintf("business-%d", personas)).
		Where("user_id = ?", userID).Exec(ctx)
	require.NoError(t, err)
	tick()
	_, err = w.CompleteStep(ctx, userID, 3)
	require.NoError(t, err)

	for v := 1; v <= personas; v++ {
		tick()
		p, err := w.GeneratePersona(ctx, userID, []models.Platform{"LINKEDIN", "X"})
		require.NoError(t, err)
		_, err = a.db.NewUpdate().Table("personas").Set("id = ?", fmt.Sprintf("persona-%d-%02d", personas, v)).
			Where("id = ?", p.ID).Exec(ctx)
		require.NoError(t, err)
	}
	if personas > 1 {
		// An older version active, so the active persona is not simply the newest.
		tick()
		_, err = w.SetActivePersona(ctx, userID, fmt.Sprintf("persona-%d-%02d", personas, personas-1))
		require.NoError(t, err)
	}
	tick()
	_, err = w.CompleteStep(ctx, userID, 4)
	require.NoError(t, err)

	tick()
	kinds := models.IntegrationKinds()
	if personas == 1 {
		kinds = kinds[:1]
	}
	_, err = w.SetIntegrations(ctx, userID, kinds)
	require.NoError(t, err)
	tick()
	_, err = w.CompleteStep(ctx, userID, 5)
	require.NoError(t, err)
	tick()
	_, err = w.Complete(ctx, userID)
	require.NoError(t, err)
	return token
}
