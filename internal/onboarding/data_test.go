package onboarding_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/internal/onboarding/website"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func TestWebsiteAnalysis(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()

		stored := func(t *testing.T, f *fixture, u string) *models.WebsiteAnalysis {
			t.Helper()
			w, err := f.svc.Summary(u).WebsiteAnalysis(ctx)
			require.NoError(t, err)
			return w
		}

		t.Run("an analysis is saved and a new one replaces it", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			a, err := f.svc.AnalyzeWebsite(ctx, u, f.site.URL)
			require.NoError(t, err)
			require.Equal(t, u, a.UserID)
			require.Equal(t, "Acme Analytics", a.Title)
			require.Equal(t, "Analytics for small teams.", a.Description)
			require.Equal(t, f.site.URL+"/", a.URL)
			require.GreaterOrEqual(t, a.WordCount, 50)

			s := stored(t, f, u)
			require.NotNil(t, s)
			require.Equal(t, u, s.UserID)
			require.Equal(t, "Acme Analytics", s.Title)
			require.Equal(t, a.WordCount, s.WordCount)
			require.Equal(t, a.TopTerms, s.TopTerms)

			a, err = f.svc.AnalyzeWebsite(ctx, u, f.site.URL+"/v2")
			require.NoError(t, err)
			require.Equal(t, "Acme Analytics Relaunched", a.Title)
			require.Equal(t, 1, f.count(t, "website_analyses", u))
			s = stored(t, f, u)
			require.Equal(t, "Acme Analytics Relaunched", s.Title)
			require.Equal(t, f.site.URL+"/v2", s.URL)
		})

		t.Run("a failed analysis is an error on url and keeps the earlier one", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			_, err := f.svc.AnalyzeWebsite(ctx, u, f.site.URL)
			require.NoError(t, err)
			before := stored(t, f, u)

			blocked := f.with(t, func(d *onboarding.Deps) { d.Website = website.New(website.Config{}, nil, logger()) })
			for _, tc := range []struct {
				name string
				svc  *onboarding.Service
				url  string
			}{
				{"not found", f.svc, f.site.URL + "/missing"},
				{"empty", f.svc, ""},
				{"blank", f.svc, "   "},
				{"too long", f.svc, f.site.URL + "/" + strings.Repeat("a", 2048)},
				{"not http", f.svc, "ftp://example.com/"},
				{"loopback without an allowance", blocked, f.site.URL},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := tc.svc.AnalyzeWebsite(ctx, u, tc.url)
					testkit.RequireCode(t, err, models.CodeBadUserInput, "url")
					require.Equal(t, before, stored(t, f, u))
				})
			}
		})

		t.Run("nothing is saved for a user whose first analysis fails", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			_, err := f.svc.AnalyzeWebsite(ctx, u, f.site.URL+"/missing")
			testkit.RequireCode(t, err, models.CodeBadUserInput, "url")
			require.Zero(t, f.count(t, "website_analyses", u))
		})
	})
}

func TestBusinessInfo(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()

		t.Run("create validates its input and stores nothing when it refuses", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			goals := make([]string, 21)
			for i := range goals {
				goals[i] = fmt.Sprintf("goal %d", i)
			}
			for _, tc := range []struct {
				name   string
				change func(*onboarding.BusinessInfoInput)
				field  string
			}{
				{"missing name", func(in *onboarding.BusinessInfoInput) { in.BusinessName = nil }, "businessName"},
				{"blank name", func(in *onboarding.BusinessInfoInput) { in.BusinessName = ptr("   ") }, "businessName"},
				{"long name", func(in *onboarding.BusinessInfoInput) { in.BusinessName = ptr(strings.Repeat("n", 201)) }, "businessName"},
				{"missing description", func(in *onboarding.BusinessInfoInput) { in.Description = nil }, "description"},
				{"short description", func(in *onboarding.BusinessInfoInput) { in.Description = ptr("  too short ") }, "description"},
				{"long industry", func(in *onboarding.BusinessInfoInput) { in.Industry = ptr(strings.Repeat("i", 201)) }, "industry"},
				{"long audience", func(in *onboarding.BusinessInfoInput) { in.TargetAudience = ptr(strings.Repeat("a", 501)) }, "targetAudience"},
				{"too many goals", func(in *onboarding.BusinessInfoInput) { in.BusinessGoals = goals }, "businessGoals"},
				{"long goal", func(in *onboarding.BusinessInfoInput) { in.BusinessGoals = []string{strings.Repeat("g", 201)} }, "businessGoals"},
				{"long product", func(in *onboarding.BusinessInfoInput) { in.Products = []string{strings.Repeat("p", 201)} }, "products"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					in := businessInput()
					tc.change(&in)
					_, err := f.svc.CreateBusinessInfo(ctx, u, in)
					testkit.RequireCode(t, err, models.CodeBadUserInput, tc.field)
					require.Zero(t, f.count(t, "business_infos", u))
				})
			}
		})

		t.Run("create, refuse a second create, update part of it", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			created := f.clock.Now()
			b := f.business(t, u)
			require.NotEmpty(t, b.ID)
			require.Equal(t, u, b.UserID)
			require.Equal(t, "Acme Analytics", b.BusinessName)
			require.Equal(t, []string{"grow newsletter signups", "publish weekly"}, b.BusinessGoals)
			require.Equal(t, []string{"Dashboards", "Customer reports"}, b.Products)

			got, err := f.svc.BusinessInfo(ctx, u)
			require.NoError(t, err)
			require.Equal(t, b.ID, got.ID)
			require.Equal(t, b.BusinessGoals, got.BusinessGoals)
			require.True(t, created.Equal(got.CreatedAt))

			other := businessInput()
			other.BusinessName = ptr("Someone Else")
			_, err = f.svc.CreateBusinessInfo(ctx, u, other)
			testkit.RequireCode(t, err, models.CodeConflict, "")
			unchanged, err := f.svc.BusinessInfo(ctx, u)
			require.NoError(t, err)
			require.Equal(t, got, unchanged)

			updated := f.clock.Add(time.Hour)
			b, err = f.svc.UpdateBusinessInfo(ctx, u, onboarding.BusinessInfoInput{Description: ptr("Customer analytics for independent online shops.")})
			require.NoError(t, err)
			require.Equal(t, "Customer analytics for independent online shops.", b.Description)
			after, err := f.svc.BusinessInfo(ctx, u)
			require.NoError(t, err)
			require.Equal(t, "Customer analytics for independent online shops.", after.Description)
			require.Equal(t, got.ID, after.ID)
			require.Equal(t, got.BusinessName, after.BusinessName)
			require.Equal(t, got.Industry, after.Industry)
			require.Equal(t, got.TargetAudience, after.TargetAudience)
			require.Equal(t, got.BusinessGoals, after.BusinessGoals)
			require.Equal(t, got.Products, after.Products)
			require.True(t, created.Equal(after.CreatedAt))
			require.True(t, updated.Equal(after.UpdatedAt))

			// An invalid update changes nothing.
			_, err = f.svc.UpdateBusinessInfo(ctx, u, onboarding.BusinessInfoInput{BusinessName: ptr("Acme 2"), Description: ptr("short")})
			testkit.RequireCode(t, err, models.CodeBadUserInput, "description")
			still, err := f.svc.BusinessInfo(ctx, u)
			require.NoError(t, err)
			require.Equal(t, after, still)
		})

		t.Run("update without business information is not found", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			_, err := f.svc.UpdateBusinessInfo(ctx, u, onboarding.BusinessInfoInput{Description: ptr("A description long enough.")})
			testkit.RequireCode(t, err, models.CodeNotFound, "")
			got, err := f.svc.BusinessInfo(ctx, u)
			require.NoError(t, err)
			require.Nil(t, got)
		})
	})
}

func TestResearchPreferences(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()

		stored := func(t *testing.T, f *fixture, u string) *models.ResearchPreferences {
			t.Helper()
			p, err := f.svc.Summary(u).ResearchPreferences(ctx)
			require.NoError(t, err)
			return p
		}

		t.Run("save and replace", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			p := f.prefs(t, u)
			require.Equal(t, []models.ContentType{"BLOG_POST", "NEWSLETTER"}, p.ContentTypes, "duplicates are dropped")
			require.Equal(t, "founders of small SaaS companies", p.TargetAudience)
			s := stored(t, f, u)
			require.Equal(t, models.DepthComprehensive, s.Depth)
			require.Equal(t, p.ContentTypes, s.ContentTypes)
			require.Equal(t, models.WritingTone("FRIENDLY"), s.WritingTone)

			at := f.clock.Add(time.Hour)
			p, err := f.svc.SaveResearchPreferences(ctx, u, onboarding.PreferencesInput{
				Depth: models.DepthBasic, ContentTypes: []models.ContentType{"EMAIL"}, WritingTone: "TECHNICAL", Language: "",
			})
			require.NoError(t, err)
			require.Equal(t, "en", p.Language, "an empty language is English")
			require.Equal(t, 1, f.count(t, "research_preferences", u))
			s = stored(t, f, u)
			require.Equal(t, models.DepthBasic, s.Depth)
			require.Equal(t, []models.ContentType{"EMAIL"}, s.ContentTypes)
			require.False(t, s.AutoResearch)
			require.Equal(t, "en", s.Language)
			require.True(t, at.Equal(s.UpdatedAt))

			_, err = f.svc.SaveResearchPreferences(ctx, u, onboarding.PreferencesInput{
				Depth: models.DepthExpert, ContentTypes: []models.ContentType{"ARTICLE"}, WritingTone: "PLAYFUL", Language: "pt-BR",
			})
			require.NoError(t, err)
			require.Equal(t, "pt-BR", stored(t, f, u).Language)
		})

		t.Run("invalid preferences are refused on their field and change nothing", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			saved := f.prefs(t, u)
			before := stored(t, f, u)
			require.Equal(t, saved.Depth, before.Depth)
			for _, tc := range []struct {
				name   string
				change func(*onboarding.PreferencesInput)
				field  string
			}{
				{"unknown depth", func(in *onboarding.PreferencesInput) { in.Depth = "DEEP" }, "depth"},
				{"empty depth", func(in *onboarding.PreferencesInput) { in.Depth = "" }, "depth"},
				{"lower-case depth", func(in *onboarding.PreferencesInput) { in.Depth = "basic" }, "depth"},
				{"no content types", func(in *onboarding.PreferencesInput) { in.ContentTypes = nil }, "contentTypes"},
				{"empty content types", func(in *onboarding.PreferencesInput) { in.ContentTypes = []models.ContentType{} }, "contentTypes"},
				{"unknown content type", func(in *onboarding.PreferencesInput) {
					in.ContentTypes = []models.ContentType{"BLOG_POST", "TWEETSTORM"}
				}, "contentTypes"},
				{"unknown tone", func(in *onboarding.PreferencesInput) { in.WritingTone = "SARCASTIC" }, "writingTone"},
				{"empty tone", func(in *onboarding.PreferencesInput) { in.WritingTone = "" }, "writingTone"},
				{"long audience", func(in *onboarding.PreferencesInput) { in.TargetAudience = strings.Repeat("a", 501) }, "targetAudience"},
				{"upper-case language", func(in *onboarding.PreferencesInput) { in.Language = "EN" }, "language"},
				{"language name", func(in *onboarding.PreferencesInput) { in.Language = "english" }, "language"},
				{"language with space", func(in *onboarding.PreferencesInput) { in.Language = "en US" }, "language"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					in := prefsInput()
					in.Depth = models.DepthBasic // differs from what is stored
					tc.change(&in)
					_, err := f.svc.SaveResearchPreferences(ctx, u, in)
					testkit.RequireCode(t, err, models.CodeBadUserInput, tc.field)
					require.Equal(t, before, stored(t, f, u))
				})
			}
		})
	})
}

func TestIntegrations(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		u := f.user(t, models.TierFree)
		kinds := func(t *testing.T) []string {
			t.Helper()
			got, err := f.svc.Summary(u).Integrations(ctx)
			require.NoError(t, err)
			var out []string
			for _, i := range got {
				require.Equal(t, "SELECTED", i.Status)
				out = append(out, i.Kind)
			}
			return out
		}

		for _, tc := range []struct {
			name  string
			set   []string
			want  []string // stored afterwards
			field string   // when refused
		}{
			{"set, duplicates collapsed", []string{"WORDPRESS", "NOTION", "WORDPRESS"}, []string{"NOTION", "WORDPRESS"}, ""},
			{"replace", []string{"GMAIL"}, []string{"GMAIL"}, ""},
			{"unknown kind refused", []string{"GMAIL", "MYSPACE"}, []string{"GMAIL"}, "kinds"},
			{"lower case refused", []string{"gmail"}, []string{"GMAIL"}, "kinds"},
			{"every kind", models.IntegrationKinds(), sortedKinds(), ""},
			{"every kind and a duplicate", append(models.IntegrationKinds(), "GMAIL"), sortedKinds(), ""},
			{"clear", []string{}, nil, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rows, err := f.svc.SetIntegrations(ctx, u, tc.set)
				if tc.field != "" {
					testkit.RequireCode(t, err, models.CodeBadUserInput, tc.field)
				} else {
					require.NoError(t, err)
					var got []string
					for _, r := range rows {
						got = append(got, r.Kind)
					}
					require.Equal(t, tc.want, got)
				}
				require.Equal(t, tc.want, kinds(t))
			})
		}
	})
}

// sortedKinds is every integration kind, in the order the service returns them.
func sortedKinds() []string {
	k := slices.Clone(models.IntegrationKinds())
	slices.Sort(k)
	return k
}

func TestPersonas(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()

		t.Run("readiness names what is missing", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			r, err := f.svc.PersonaReadiness(ctx, u)
			require.NoError(t, err)
			require.False(t, r.Ready)
			require.Equal(t, []string{"website analysis or business information", "research preferences"}, r.Missing)

			f.business(t, u)
			r, err = f.svc.PersonaReadiness(ctx, u)
			require.NoError(t, err)
			require.False(t, r.Ready)
			require.Equal(t, []string{"research preferences"}, r.Missing)

			f.prefs(t, u)
			r, err = f.svc.PersonaReadiness(ctx, u)
			require.NoError(t, err)
			require.True(t, r.Ready)
			require.Empty(t, r.Missing)
			require.Contains(t, r.Sources, "business information")
		})

		t.Run("generation without enough data is refused", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.business(t, u)
			_, err := f.svc.GeneratePersona(ctx, u, nil)
			e := testkit.RequireCode(t, err, models.CodeBadUserInput, "persona")
			require.Contains(t, e.Message, "research preferences")
			_, err = f.svc.PreviewPersona(ctx, u, nil)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "persona")
			require.Empty(t, f.personas(t, u))
		})

		t.Run("invalid platforms are refused", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.business(t, u)
			f.prefs(t, u)
			for _, platforms := range [][]models.Platform{{"TIKTOK"}, {"linkedin"}, {"X", "X"}} {
				_, err := f.svc.GeneratePersona(ctx, u, platforms)
				testkit.RequireCode(t, err, models.CodeBadUserInput, "platforms")
				_, err = f.svc.PreviewPersona(ctx, u, platforms)
				testkit.RequireCode(t, err, models.CodeBadUserInput, "platforms")
			}
			require.Empty(t, f.personas(t, u))
		})

		t.Run("preview saves nothing, generation adds active versions", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.business(t, u)
			f.prefs(t, u)

			d, err := f.svc.PreviewPersona(ctx, u, []models.Platform{"LINKEDIN", "X"})
			require.NoError(t, err)
			require.Equal(t, models.PersonaFromRules, d.Source)
			require.Equal(t, []models.Platform{"LINKEDIN", "X"}, d.SelectedPlatforms)
			require.NotEmpty(t, d.Core.Summary)
			require.Empty(t, f.personas(t, u))

			v1, err := f.svc.GeneratePersona(ctx, u, nil)
			require.NoError(t, err)
			require.Equal(t, 1, v1.Version)
			require.True(t, v1.Active)
			require.NotEmpty(t, v1.SelectedPlatforms, "no platforms means the default ones")
			f.clock.Add(time.Minute)
			v2, err := f.svc.GeneratePersona(ctx, u, []models.Platform{"X"})
			require.NoError(t, err)
			require.Equal(t, 2, v2.Version)
			require.True(t, v2.Active)

			ps := f.personas(t, u)
			require.Len(t, ps, 2)
			require.Equal(t, v2.ID, ps[0].ID, "newest first")
			require.True(t, ps[0].Active)
			require.Equal(t, v1.ID, ps[1].ID)
			require.False(t, ps[1].Active)
			require.Equal(t, []models.Platform{"X"}, ps[0].SelectedPlatforms)
			require.Equal(t, v2.Core, ps[0].Core)

			got, err := f.svc.SetActivePersona(ctx, u, v1.ID)
			require.NoError(t, err)
			require.Equal(t, v1.ID, got.ID)
			require.True(t, got.Active)
			ps = f.personas(t, u)
			require.Equal(t, v2.ID, ps[0].ID)
			require.False(t, ps[0].Active)
			require.True(t, ps[1].Active)
			require.Equal(t, v1.ID, onboarding.ActivePersona(ps).ID)

			// A generation after re-activating an older version is still the newest.
			v3, err := f.svc.GeneratePersona(ctx, u, nil)
			require.NoError(t, err)
			require.Equal(t, 3, v3.Version)
			require.Equal(t, v3.ID, onboarding.ActivePersona(f.personas(t, u)).ID)
		})

		t.Run("another user's persona cannot be activated", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			a, b := f.user(t, models.TierFree), f.user(t, models.TierFree)
			for _, u := range []string{a, b} {
				f.business(t, u)
				f.prefs(t, u)
			}
			theirs, err := f.svc.GeneratePersona(ctx, a, nil)
			require.NoError(t, err)
			mine, err := f.svc.GeneratePersona(ctx, b, nil)
			require.NoError(t, err)
			beforeA, beforeB := f.personas(t, a), f.personas(t, b)

			for _, id := range []string{theirs.ID, "no-such-persona"} {
				_, err = f.svc.SetActivePersona(ctx, b, id)
				testkit.RequireCode(t, err, models.CodeNotFound, "")
			}
			require.Equal(t, beforeA, f.personas(t, a))
			require.Equal(t, beforeB, f.personas(t, b))
			require.Equal(t, mine.ID, onboarding.ActivePersona(f.personas(t, b)).ID)
		})
	})
}

// Every call for user B leaves A's rows alone and never returns them.
func TestUserIsolation(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		a, b := f.user(t, models.TierFree), f.user(t, models.TierFree)
		f.throughStep3(t, a)
		_, err := f.svc.AnalyzeWebsite(ctx, a, f.site.URL)
		require.NoError(t, err)
		_, err = f.svc.SetIntegrations(ctx, a, []string{"WIX"})
		require.NoError(t, err)
		_, err = f.svc.Complete(ctx, a)
		require.NoError(t, err)
		progressA := f.progress(t, a)
		countsA := f.counts(t, a)
		personaA := f.personas(t, a)[0]
		businessA, err := f.svc.BusinessInfo(ctx, a)
		require.NoError(t, err)

		// What B sees.
		keys, err := f.svc.ProviderKeys(ctx, b)
		require.NoError(t, err)
		require.Empty(t, keys)
		require.Empty(t, f.personas(t, b))
		bi, err := f.svc.BusinessInfo(ctx, b)
		require.NoError(t, err)
		require.Nil(t, bi)
		require.Nil(t, f.progress(t, b).StartedAt)
		_, _, err = f.svc.RevealProviderKey(ctx, b, "openai")
		testkit.RequireCode(t, err, models.CodeNotFound, "")
		r, err := f.svc.PersonaReadiness(ctx, b)
		require.NoError(t, err)
		require.False(t, r.Ready)
		_, err = f.svc.CompleteStep(ctx, b, models.StepProviderKeys)
		testkit.RequireCode(t, err, models.CodeBadUserInput, "providerKeys")

		// What B changes.
		ok, err := f.svc.DeleteProviderKey(ctx, b, "openai")
		require.NoError(t, err)
		require.False(t, ok)
		_, err = f.svc.UpdateBusinessInfo(ctx, b, onboarding.BusinessInfoInput{Description: ptr("Not my business at all.")})
		testkit.RequireCode(t, err, models.CodeNotFound, "")
		_, err = f.svc.SetActivePersona(ctx, b, personaA.ID)
		testkit.RequireCode(t, err, models.CodeNotFound, "")
		_, err = f.svc.VerifyProviderKey(ctx, b, "openai")
		require.Error(t, err)
		f.saveKey(t, b, "openai", openaiKey2) // the free tier counts B's keys, not A's
		f.business(t, b)
		f.prefs(t, b)
		_, err = f.svc.SetIntegrations(ctx, b, []string{"GMAIL"})
		require.NoError(t, err)
		_, err = f.svc.GeneratePersona(ctx, b, nil)
		require.NoError(t, err)
		_, err = f.svc.Reset(ctx, b, true)
		require.NoError(t, err)

		// A is as it was.
		require.Equal(t, progressA, f.progress(t, a))
		require.Equal(t, countsA, f.counts(t, a))
		require.Equal(t, []*models.Persona{personaA}, f.personas(t, a))
		stillA, err := f.svc.BusinessInfo(ctx, a)
		require.NoError(t, err)
		require.Equal(t, businessA, stillA)
		plain, _, err := f.svc.RevealProviderKey(ctx, a, "openai")
		require.NoError(t, err)
		require.Equal(t, openaiKey, plain)

		// Summaries keep each user's rows apart.
		keysA, err := f.svc.Summary(a).ProviderKeys(ctx)
		require.NoError(t, err)
		keysB, err := f.svc.Summary(b).ProviderKeys(ctx)
		require.NoError(t, err)
		require.Len(t, keysA, 1)
		require.Empty(t, keysB)
		ofA, err := f.svc.Summary(a).Progress(ctx)
		require.NoError(t, err)
		ofB, err := f.svc.Summary(b).Progress(ctx)
		require.NoError(t, err)
		require.True(t, ofA.IsCompleted())
		require.False(t, ofB.IsCompleted())
		require.Equal(t, b, ofB.UserID)
	})
}

func TestPersonalization(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()

		// inputs reads the personalisation through a summary, as the resolvers do, and
		// checks the service's own answer (chat's and playbooks') is the same.
		inputs := func(t *testing.T, f *fixture, u string) *models.PersonalizationContext {
			t.Helper()
			c, err := f.svc.Summary(u).Personalization(ctx)
			require.NoError(t, err)
			again, err := f.svc.PersonalizationContext(ctx, u)
			require.NoError(t, err)
			require.Equal(t, c, again)
			return c
		}

		t.Run("defaults when nothing was entered", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			c := inputs(t, f, f.user(t, models.TierFree))
			require.ElementsMatch(t, []string{
				"businessName", "industry", "targetAudience", "writingTone", "researchDepth", "contentTypes",
				"autoResearch", "factualContent", "language", "keyTopics", "persona", "platforms",
			}, c.Defaulted)
			require.Empty(t, c.BusinessName)
			require.Equal(t, "general", c.Industry)
			require.Equal(t, models.WritingTone("PROFESSIONAL"), c.WritingTone)
			require.Equal(t, models.DepthStandard, c.ResearchDepth)
			require.Equal(t, "en", c.Language)
			require.Nil(t, c.PersonaID)
			require.NotEmpty(t, c.Platforms)
			require.NotNil(t, c.KeyTopics)
		})

		t.Run("the user's data when there is some", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.business(t, u)
			f.prefs(t, u)
			active, err := f.svc.GeneratePersona(ctx, u, []models.Platform{"NEWSLETTER"})
			require.NoError(t, err)

			c := inputs(t, f, u)
			require.Empty(t, c.Defaulted)
			require.Equal(t, "Acme Analytics", c.BusinessName)
			require.Equal(t, "Software", c.Industry)
			require.Equal(t, "founders of small SaaS companies", c.TargetAudience)
			require.Equal(t, models.WritingTone("FRIENDLY"), c.WritingTone)
			require.Equal(t, models.DepthComprehensive, c.ResearchDepth)
			require.Equal(t, []models.ContentType{"BLOG_POST", "NEWSLETTER"}, c.ContentTypes)
			require.True(t, c.AutoResearch)
			require.NotNil(t, c.PersonaID)
			require.Equal(t, active.ID, *c.PersonaID)
			require.Equal(t, active.Core.Summary, c.PersonaSummary)
			require.Equal(t, []models.Platform{"NEWSLETTER"}, c.Platforms)
			require.NotEmpty(t, c.KeyTopics)
		})

		t.Run("a website names the business when there is no business information", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			_, err := f.svc.AnalyzeWebsite(ctx, u, f.site.URL)
			require.NoError(t, err)
			c := inputs(t, f, u)
			require.Equal(t, "Acme Analytics", c.BusinessName)
			require.NotContains(t, c.Defaulted, "businessName")
			require.NotContains(t, c.Defaulted, "keyTopics")
			require.NotEmpty(t, c.KeyTopics)
			require.Contains(t, c.Defaulted, "industry")
		})
	})
}
