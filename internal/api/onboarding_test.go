package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/models"
)

// sitePage is a small but real marketing page for website analysis.
const sitePage = `<!doctype html><html lang="en"><head><title>Acme Analytics</title>
<meta name="description" content="Analytics for small teams that want answers, not dashboards.">
</head><body><h1>Answers, not dashboards</h1>
<p>We help small teams understand their customers. Our analytics platform turns raw events into plain answers you can act on today.
You connect your data in minutes, and we do the heavy lifting. No consultants, no six-month projects, no surprises on your invoice.</p>
<h2>Why teams choose us</h2>
<p>Analytics should be simple. Our customers tell us they finally understand which campaigns work and which features matter.
We built the product we wanted to use ourselves: fast, honest and friendly. Try it free for thirty days and see your first report within an hour.</p>
<h2>Get started</h2><p>Sign up today. Book a demo if you have questions about analytics for your team, your customers or your product.</p>
</body></html>`

// site serves sitePage (or another page) on loopback, which the test config allows.
func site(t *testing.T, page string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/"
}

const openAIKey = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"

// summaryQuery is the final step's one request: everything the user entered.
const summaryQuery = `query {
  onboarding {
    progress { currentStep percentage completed startedAt completedAt steps { step key title required status startedAt completedAt skippedAt } }
    resume { step reason completed missingSteps }
    providerKeys { provider kind masked formatValid status validated lastVerifiedAt lastError keyVersion createdAt updatedAt }
    hasValidatedKey
    websiteAnalysis { url finalUrl title description headings { level text } wordCount readingLevel { fleschReadingEase gradeLevel label }
      language topTerms { term count } tone { formality labels callToActionPhrases avgSentenceLength } style { tone } brand { colors } }
    businessInfo { id businessName description }
    researchPreferences { depth contentTypes autoResearch factualContent targetAudience writingTone language }
    integrations { kind status }
    activePersona { id version active source core { name archetype summary tone voice audience keyTopics } platformPersonas { platform maxLength hashtags } quality { overall notes } }
    personas { id version active }
    personaReadiness { ready missing sources }
    personalization { businessName industry targetAudience writingTone keyTopics platforms personaId defaulted }
    plan { tier providers requestsPerMinute }
  }
}`

// onboard walks a user through the wizard over GraphQL up to (not including) completion.
func onboard(t *testing.T, a *app, token, siteURL string) {
	t.Helper()
	steps := []struct {
		query string
		vars  map[string]any
	}{
		{`mutation { startOnboarding { currentStep } }`, nil},
		{`mutation($k: String!) { saveProviderKey(provider: "openai", key: $k) { masked status } }`, map[string]any{"k": openAIKey}},
		{`mutation { completeStep(step: 1) { currentStep } }`, nil},
		{`mutation($u: String!) { analyzeWebsite(url: $u) { title wordCount } }`, map[string]any{"u": siteURL}},
		{`mutation { completeStep(step: 2) { currentStep } }`, nil},
		{`mutation { saveResearchPreferences(input: {depth: COMPREHENSIVE, contentTypes: [BLOG_POST, SOCIAL_POST], targetAudience: "founders of small SaaS companies", writingTone: FRIENDLY}) { depth } }`, nil},
		{`mutation { completeStep(step: 3) { currentStep } }`, nil},
	}
	for _, s := range steps {
		_, errs := a.do(t, token, s.query, s.vars)
		require.Empty(t, errs, s.query)
	}
}

func TestOnboardingWizardOverGraphQL(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, d)
			token, _, _ := a.register(t, "wizard@example.com")

			data, errs := a.do(t, "", `{ onboardingConfig { steps { step key required } providers { id kind docsUrl keyFormat } requiredSteps optionalSteps llmConfigured } }`, nil)
			require.Empty(t, errs)
			cfg := data["onboardingConfig"].(map[string]any)
			require.Len(t, cfg["steps"], 6)
			require.Len(t, cfg["providers"], 7)
			require.Equal(t, []any{1.0, 2.0, 3.0, 6.0}, cfg["requiredSteps"])
			require.Equal(t, false, cfg["llmConfigured"])

			// Completing before the required steps: refused, naming them.
			_, errs = a.do(t, token, `mutation { completeOnboarding { completed } }`, nil)
			require.Len(t, errs, 1)
			require.Equal(t, models.CodeBadUserInput, errs[0].Extensions["code"])
			require.Contains(t, errs[0].Message, "1 (Provider API keys)")
			require.Contains(t, errs[0].Message, "3 (Research preferences)")

			onboard(t, a, token, site(t, sitePage))
			data, errs = a.do(t, token, `mutation { skipStep(step: 4) { currentStep percentage } }`, nil)
			require.Empty(t, errs)
			require.Equal(t, 5.0, data["skipStep"].(map[string]any)["currentStep"])

			data, errs = a.do(t, token, `mutation { completeOnboarding { completed currentStep percentage steps { step status } } }`, nil)
			require.Empty(t, errs)
			done := data["completeOnboarding"].(map[string]any)
			require.Equal(t, true, done["completed"])
			require.Equal(t, 100.0, done["percentage"])

			body := a.raw(t, token, summaryQuery)
			require.NotContains(t, body, openAIKey, "the key never leaves the server")
			require.NotContains(t, body, openAIKey[8:20])
			var resp struct {
				Data struct {
					Onboarding struct {
						Progress struct {
							Completed bool
							Steps     []struct{ Status string }
						}
						ProviderKeys []struct {
							Masked    string
							Status    string
							Validated bool
						}
						WebsiteAnalysis struct {
							Title     string
							WordCount int
						}
						ActivePersona struct {
							Source  string
							Version int
						}
						Personas         []struct{ Version int }
						PersonaReadiness struct{ Ready bool }
						Personalization  struct {
							BusinessName   string
							TargetAudience string
							Defaulted      []string
						}
						Plan struct{ Tier string }
					}
				}
				Errors []gqlError
			}
			require.NoError(t, json.Unmarshal([]byte(body), &resp))
			require.Empty(t, resp.Errors)
			o := resp.Data.Onboarding
			require.True(t, o.Progress.Completed)
			require.Equal(t, "SKIPPED", o.Progress.Steps[3].Status)
			require.Equal(t, "SKIPPED", o.Progress.Steps[4].Status, "open optional steps are skipped at completion")
			require.Equal(t, "COMPLETED", o.Progress.Steps[5].Status)
			require.Len(t, o.ProviderKeys, 1)
			require.Equal(t, "sk-proj-…6789", o.ProviderKeys[0].Masked)
			require.Equal(t, "FORMAT_OK", o.ProviderKeys[0].Status)
			require.True(t, o.ProviderKeys[0].Validated)
			require.Equal(t, "Acme Analytics", o.WebsiteAnalysis.Title)
			require.Greater(t, o.WebsiteAnalysis.WordCount, 100)
			require.Equal(t, "RULES", o.ActivePersona.Source, "step 4 was skipped, so completion generated one, without an LLM")
			require.Len(t, o.Personas, 1)
			require.True(t, o.PersonaReadiness.Ready)
			require.Equal(t, "founders of small SaaS companies", o.Personalization.TargetAudience)
			require.NotContains(t, o.Personalization.Defaulted, "persona")
			require.Equal(t, "FREE", o.Plan.Tier)

			// Idempotent: completing again changes nothing and generates nothing.
			_, errs = a.do(t, token, `mutation { completeOnboarding { completed } }`, nil)
			require.Empty(t, errs)
			require.Equal(t, 1, countRows(t, a.db, "personas"))
		})
	}
}

// raw runs a query in-process and returns the response body as sent.
func (a *app) raw(t *testing.T, token, query string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"query": query})
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	return rec.Body.String()
}

// statementCounter counts the SQL statements a database runs while it is on.
type statementCounter struct {
	on    atomic.Bool
	mu    sync.Mutex
	stmts []string
}

func (c *statementCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (c *statementCounter) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if c.on.Load() {
		c.mu.Lock()
		c.stmts = append(c.stmts, e.Query)
		c.mu.Unlock()
	}
}

// count runs fn and returns the statements it ran.
func (c *statementCounter) count(fn func()) (int, []string) {
	c.mu.Lock()
	c.stmts = nil
	c.mu.Unlock()
	c.on.Store(true)
	fn()
	c.on.Store(false)
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.stmts), c.stmts
}

func TestOnboardingSummaryCostsFixedStatements(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			counter := &statementCounter{}
			a := startAppWith(t, testkit.DatabaseURL(t, d), wiring{queryHook: counter})
			siteURL := site(t, sitePage)
			ctx := context.Background()

			small, _, smallID := a.register(t, "small@example.com")
			onboard(t, a, small, siteURL)
			_, errs := a.do(t, small, `mutation { generatePersona { version } }`, nil)
			require.Empty(t, errs)

			// The large user is on the team tier (unlimited providers) with every
			// provider's key and 50 persona versions.
			large, _, largeID := a.register(t, "large@example.com")
			_, err := a.db.NewUpdate().Table("users").Set("tier = ?", models.TierTeam).Where("id = ?", largeID).Exec(ctx)
			require.NoError(t, err)
			onboard(t, a, large, siteURL)
			keys := map[string]string{
				"anthropic": "sk-ant-abcdefghijklmnopqrstuvwxyz012345",
				"gemini":    "AIza" + strings.Repeat("b", 35),
				"mistral":   strings.Repeat("c", 32),
				"tavily":    "tvly-abcdefghijklmnopqrstuvwxyz",
				"serper":    strings.Repeat("d", 40),
				"exa":       strings.Repeat("e", 36),
			}
			for p, k := range keys {
				_, err := a.wizard.SaveProviderKey(ctx, largeID, p, k)
				require.NoError(t, err, p)
			}
			for range 50 {
				_, err := a.wizard.GeneratePersona(ctx, largeID, nil)
				require.NoError(t, err)
			}
			_, err = a.wizard.SetIntegrations(ctx, largeID, models.IntegrationKinds())
			require.NoError(t, err)

			var smallBody, largeBody string
			nSmall, stmtsSmall := counter.count(func() { smallBody = a.raw(t, small, summaryQuery) })
			nLarge, stmtsLarge := counter.count(func() { largeBody = a.raw(t, large, summaryQuery) })
			require.NotContains(t, smallBody, `"errors"`, smallBody)
			require.NotContains(t, largeBody, `"errors"`, largeBody)
			require.Contains(t, largeBody, `"version":50`)
			require.Equal(t, 7, strings.Count(largeBody, `"keyVersion":1`))
			require.Equal(t, 1, strings.Count(smallBody, `"keyVersion":1`))

			require.Equal(t, nSmall, nLarge, "the summary costs the same statements whatever the data size:\n%s\n---\n%s",
				strings.Join(stmtsSmall, "\n"), strings.Join(stmtsLarge, "\n"))
			// One for the tables of one row per user (the account, progress, website,
			// business info, preferences), one each for steps, keys, integrations and
			// personas: what hand-written SQL takes for the same answer.
			require.Equal(t, 5, nLarge, strings.Join(stmtsLarge, "\n"))
			_ = smallID
		})
	}
}

func TestOnboardingBadInputLeavesStateAsItWas(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	token, _, _ := a.register(t, "bad@example.com")
	onboard(t, a, token, site(t, sitePage))
	before := a.raw(t, token, summaryQuery)

	notHTML := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"not":"html"}`))
	}))
	t.Cleanup(notHTML.Close)
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>" + strings.Repeat("word ", 1<<20) + "</body></html>"))
	}))
	t.Cleanup(huge.Close)

	for _, tc := range []struct {
		name, query string
		code, field string
	}{
		{"unknown provider", `mutation { saveProviderKey(provider: "acme", key: "sk-abcdefghijklmnopqrstuvwxyz") { masked } }`, models.CodeBadUserInput, "provider"},
		{"malformed key", `mutation { saveProviderKey(provider: "openai", key: "not-a-key") { masked } }`, models.CodeBadUserInput, "key"},
		{"second LLM provider on free", `mutation { saveProviderKey(provider: "mistral", key: "` + strings.Repeat("m", 32) + `") { masked } }`, models.CodePaymentRequired, "provider"},
		{"private address", `mutation { analyzeWebsite(url: "http://10.1.2.3/") { title } }`, models.CodeBadUserInput, "url"},
		{"metadata address", `mutation { analyzeWebsite(url: "http://169.254.169.254/latest/meta-data/") { title } }`, models.CodeBadUserInput, "url"},
		{"not http", `mutation { analyzeWebsite(url: "file:///etc/passwd") { title } }`, models.CodeBadUserInput, "url"},
		{"non-HTML page", `mutation { analyzeWebsite(url: "` + notHTML.URL + `") { title } }`, models.CodeBadUserInput, "url"},
		{"oversized page", `mutation { analyzeWebsite(url: "` + huge.URL + `") { title } }`, models.CodeBadUserInput, "url"},
		{"step out of range", `mutation { completeStep(step: 9) { currentStep } }`, models.CodeBadUserInput, "step"},
		{"step zero", `mutation { skipStep(step: 0) { currentStep } }`, models.CodeBadUserInput, "step"},
		{"skipping a required step", `mutation { skipStep(step: 3) { currentStep } }`, models.CodeBadUserInput, "step"},
		{"bad language", `mutation { saveResearchPreferences(input: {depth: BASIC, contentTypes: [EMAIL], language: "english!"}) { depth } }`, models.CodeBadUserInput, "language"},
		{"no content types", `mutation { saveResearchPreferences(input: {depth: BASIC, contentTypes: []}) { depth } }`, models.CodeBadUserInput, "contentTypes"},
		{"short description", `mutation { createBusinessInfo(input: {businessName: "Acme", description: "short"}) { id } }`, models.CodeBadUserInput, "description"},
		{"update missing business info", `mutation { updateBusinessInfo(input: {industry: "x"}) { id } }`, models.CodeNotFound, ""},
		{"unknown persona", `mutation { setActivePersona(id: "0192f000-0000-7000-8000-000000000000") { id } }`, models.CodeNotFound, "id"},
		{"bad platform list", `mutation { generatePersona(platforms: [X, X]) { id } }`, models.CodeBadUserInput, "platforms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := a.do(t, token, tc.query, nil)
			require.Len(t, errs, 1, tc.query)
			require.Equal(t, tc.code, errs[0].Extensions["code"], errs[0].Message)
			if tc.field != "" {
				require.Equal(t, tc.field, errs[0].Extensions["field"], errs[0].Message)
			}
			require.JSONEq(t, before, a.raw(t, token, summaryQuery), "state unchanged")
		})
	}
}

func TestBusinessInfoLifecycle(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	token, _, _ := a.register(t, "shop@example.com")
	_, errs := a.do(t, token, `mutation { createBusinessInfo(input: {businessName: "Corner Shop", description: "Bread and coffee on the corner since 1998.", businessGoals: ["more regulars", "more regulars", " "]}) { id businessGoals } }`, nil)
	require.Empty(t, errs)
	_, errs = a.do(t, token, `mutation { createBusinessInfo(input: {businessName: "Again", description: "A second one is a conflict."}) { id } }`, nil)
	require.Len(t, errs, 1)
	require.Equal(t, models.CodeConflict, errs[0].Extensions["code"])
	data, errs := a.do(t, token, `mutation { updateBusinessInfo(input: {industry: "bakery"}) { businessName industry businessGoals } }`, nil)
	require.Empty(t, errs)
	require.Equal(t, map[string]any{"businessName": "Corner Shop", "industry": "bakery", "businessGoals": []any{"more regulars"}}, data["updateBusinessInfo"])
	for _, want := range []bool{true, false} {
		data, errs = a.do(t, token, `mutation { deleteBusinessInfo }`, nil)
		require.Empty(t, errs)
		require.Equal(t, want, data["deleteBusinessInfo"])
	}
	data, errs = a.do(t, token, `{ businessInfo { id } }`, nil)
	require.Empty(t, errs)
	require.Nil(t, data["businessInfo"])
}

func TestAuthPayloadsDoNotLoseTheirTokensOverOnboarding(t *testing.T) {
	t.Parallel()
	// The user of a register payload is not the caller yet (no token was sent):
	// its onboarding is null, and the tokens still arrive.
	a := newApp(t, testkit.SQLite)
	data, errs := a.do(t, "", `mutation { register(input: {email: "new@example.com", password: "password1"}) { accessToken user { id onboarding { progress { currentStep } } } } }`, nil)
	require.Empty(t, errs)
	p := data["register"].(map[string]any)
	require.NotEmpty(t, p["accessToken"])
	require.Nil(t, p["user"].(map[string]any)["onboarding"])

	data, errs = a.do(t, p["accessToken"].(string), `{ me { onboarding { progress { currentStep } } } }`, nil)
	require.Empty(t, errs)
	require.Equal(t, 1.0, data["me"].(map[string]any)["onboarding"].(map[string]any)["progress"].(map[string]any)["currentStep"])
}

func TestPersonaGenerationWithoutDataIsRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	token, _, _ := a.register(t, "empty@example.com")
	data, errs := a.do(t, token, `{ personaReadiness { ready missing } }`, nil)
	require.Empty(t, errs)
	r := data["personaReadiness"].(map[string]any)
	require.Equal(t, false, r["ready"])
	require.NotEmpty(t, r["missing"])
	for _, q := range []string{`mutation { generatePersona { id } }`, `mutation { previewPersona { source } }`} {
		_, errs = a.do(t, token, q, nil)
		require.Len(t, errs, 1)
		require.Equal(t, models.CodeBadUserInput, errs[0].Extensions["code"])
		require.Equal(t, "persona", errs[0].Extensions["field"])
	}
	require.Equal(t, 0, countRows(t, a.db, "personas"))
}

// TestOnboardingIsolation runs every onboarding operation as user B against user A's
// data: B sees nothing of A's, and A's summary is byte for byte what it was.
func TestOnboardingIsolation(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			// Keys are checked live against a provider that takes any, so verifying
			// as B looks B's key up rather than being refused before any lookup.
			provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(`{"object":"list","data":[]}`))
			}))
			t.Cleanup(provider.Close)
			a := newApp(t, d, withoutRateLimits, func(c *config.Config) {
				c.LiveKeyCheck = true
				c.ProviderBaseURLs = map[string]string{"openai": provider.URL}
			})
			ctx := context.Background()
			siteURL := site(t, sitePage)
			tokenA, _, idA := a.register(t, "alice@example.com")
			onboard(t, a, tokenA, siteURL)
			_, errs := a.do(t, tokenA, `mutation { createBusinessInfo(input: {businessName: "Alice Co", description: "Alice sells secret things to secret people."}) { id } }`, nil)
			require.Empty(t, errs)
			_, errs = a.do(t, tokenA, `mutation { setIntegrations(kinds: [WORDPRESS]) { kind } }`, nil)
			require.Empty(t, errs)
			personaA, err := a.wizard.GeneratePersona(ctx, idA, nil)
			require.NoError(t, err)
			_, err = a.wizard.GeneratePersona(ctx, idA, nil)
			require.NoError(t, err)
			beforeA := a.raw(t, tokenA, summaryQuery)

			tokenB, _, _ := a.register(t, "bob@example.com")
			for _, tc := range []struct {
				name, query string
				leaks       []string // strings of A's that must not appear in B's answer
				code        string   // the error B gets, where B has nothing to act on
			}{
				{"summary", summaryQuery, []string{"Acme", "Alice", idA, personaA.ID, "sk-proj"}, ""},
				{"me onboarding", `{ me { onboarding { providerKeys { masked } businessInfo { businessName } personas { id } } } }`, []string{"Alice", personaA.ID, "sk-proj"}, ""},
				{"business info", `{ businessInfo { businessName } }`, []string{"Alice"}, ""},
				{"personas", `{ personas { id } }`, []string{personaA.ID}, ""},
				{"personalization", `{ personalization { businessName personaId } }`, []string{"Alice", "Acme", personaA.ID}, ""},
				{"readiness", `{ personaReadiness { ready sources } }`, []string{siteURL}, ""},
				{"activate A's persona", `mutation { setActivePersona(id: "` + personaA.ID + `") { id } }`, []string{personaA.ID}, "NOT_FOUND"},
				{"verify A's provider", `mutation { verifyProviderKey(provider: "openai") { masked } }`, []string{"sk-proj"}, "NOT_FOUND"},
				{"delete A's provider", `mutation { deleteProviderKey(provider: "openai") }`, nil, ""},
				{"update business info", `mutation { updateBusinessInfo(input: {businessName: "Bob"}) { businessName } }`, []string{"Alice"}, ""},
				{"delete business info", `mutation { deleteBusinessInfo }`, nil, ""},
				{"complete a step", `mutation { completeStep(step: 1) { currentStep } }`, nil, ""},
				{"reset with data", `mutation { resetOnboarding(deleteData: true) { dataDeleted } }`, nil, ""},
				{"skip", `mutation { skipStep(step: 5) { currentStep } }`, nil, ""},
				{"complete", `mutation { completeOnboarding { completed } }`, nil, ""},
				{"integrations", `mutation { setIntegrations(kinds: [MEDIUM]) { kind } }`, nil, ""},
				{"save preferences", `mutation { saveResearchPreferences(input: {depth: BASIC, contentTypes: [EMAIL]}) { depth } }`, nil, ""},
				{"start", `mutation { startOnboarding { currentStep steps { status } } }`, nil, ""},
				{"save a key", `mutation { saveProviderKey(provider: "openai", key: "sk-proj-bobbobbobbobbobbobbobbob0000") { masked } }`, []string{"sk-proj-…6789"}, ""},
				{"analyze a website", `mutation { analyzeWebsite(url: "` + siteURL + `") { title } }`, nil, ""},
				{"create business info", `mutation { createBusinessInfo(input: {businessName: "Bob Co", description: "Bob's own business, described."}) { id } }`, []string{"Alice"}, ""},
				{"preview persona", `mutation { previewPersona { core { name summary } } }`, []string{"Alice"}, ""},
				{"generate persona", `mutation { generatePersona { id version } }`, []string{personaA.ID}, ""},
				{"B's summary after all that", summaryQuery, []string{"Alice", idA, personaA.ID, "sk-proj-…6789"}, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					body := a.raw(t, tokenB, tc.query)
					for _, s := range tc.leaks {
						require.NotContains(t, body, s)
					}
					if tc.code != "" {
						require.Contains(t, body, `"code":"`+tc.code+`"`)
					}
					require.Equal(t, beforeA, a.raw(t, tokenA, summaryQuery), "A's onboarding is untouched")
				})
			}
		})
	}
}

func TestOnboardingProgressAcrossInstances(t *testing.T) {
	t.Parallel()
	// Two instances on one PostgreSQL database: a change made through B reaches a
	// subscriber connected to A (LISTEN/NOTIFY), and each change emits the new state.
	url := testkit.PostgresSchemaURL(t)
	a, b := startApp(t, url), startApp(t, url)
	tsA := serve(t, a)
	token, _, _ := a.register(t, "sub@example.com")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events := subscribeSSE(t, ctx, tsA.URL, token, `subscription { onboardingProgress { currentStep steps { status } } }`)

	// The subscription is live once its LISTEN is in place; keep nudging until the
	// first event arrives rather than guessing how long that takes.
	first := make(chan sseEvent, 1)
	go func() {
		if ev, ok := <-events; ok {
			first <- ev
		}
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var got sseEvent
	for waiting := true; waiting; {
		select {
		case got = <-first:
			waiting = false
		case <-tick.C:
			_, errs := b.do(t, token, `mutation { startOnboarding { currentStep } }`, nil)
			require.Empty(t, errs)
		case <-ctx.Done():
			t.Fatal("no progress event")
		}
	}
	require.Contains(t, got.data, `"currentStep":1`)

	_, errs := b.do(t, token, `mutation($k: String!) { saveProviderKey(provider: "openai", key: $k) { masked } }`, map[string]any{"k": openAIKey})
	require.Empty(t, errs)
	_, errs = b.do(t, token, `mutation { completeStep(step: 1) { currentStep } }`, nil)
	require.Empty(t, errs)
	for {
		select {
		case ev, ok := <-events:
			require.True(t, ok, "stream ended early")
			if strings.Contains(ev.data, `"currentStep":2`) {
				require.Contains(t, ev.data, `{"status":"COMPLETED"}`)
				return
			}
		case <-ctx.Done():
			t.Fatal("never saw step 2 in progress events")
		}
	}
}

func TestOnboardingWithAnLLM(t *testing.T) {
	t.Parallel()
	// A real OpenAI-compatible server (the fake speaks the wire format) behind the
	// real client: the style analysis and the persona come from it, marked as such.
	llm := fakellm.New(t)
	llm.Reply = func(req fakellm.Request) fakellm.Response {
		system := req.Body.Messages[0].Content
		if strings.Contains(system, "writing personas") {
			return fakellm.Response{Content: `{"name":"Acme Voice","archetype":"The Guide","summary":"A friendly guide to analytics for small teams.",
				"tone":["friendly","clear","confident"],"voice":"We speak to you directly.","audience":"founders of small SaaS companies",
				"vocabularyLevel":"plain","sentenceStyle":"short and direct","keyTopics":["analytics","customers"],
				"do":["use examples"],"dont":["use jargon"],"sampleOpening":"Your data has answers.",
				"platformPersonas":[{"platform":"LINKEDIN","tone":"professional","format":"short post","maxLength":3000,"idealLength":"150 words","hashtags":3,"emojiUse":"SPARING","postingGuidance":["lead with a question"]}]}`}
		}
		return fakellm.Response{Content: `{"tone":"friendly","voice":"first person plural","audience":"small teams","complexity":"plain","keyMessages":["answers, not dashboards"],"observations":["short sentences"]}`}
	}
	a := newApp(t, testkit.SQLite, func(c *config.Config) { c.LLMBaseURL = llm.URL() })
	token, _, _ := a.register(t, "llm@example.com")

	data, errs := a.do(t, token, `mutation($u: String!) { analyzeWebsite(url: $u) { style { tone voice model keyMessages } } }`, map[string]any{"u": site(t, sitePage)})
	require.Empty(t, errs)
	style := data["analyzeWebsite"].(map[string]any)["style"].(map[string]any)
	require.Equal(t, "friendly", style["tone"])
	require.Equal(t, a.cfg.LLMModel, style["model"], "the model that answered")

	_, errs = a.do(t, token, `mutation { saveResearchPreferences(input: {depth: STANDARD, contentTypes: [BLOG_POST]}) { depth } }`, nil)
	require.Empty(t, errs)
	data, errs = a.do(t, token, `mutation { generatePersona(platforms: [LINKEDIN]) { source model core { name archetype } platformPersonas { platform maxLength } } }`, nil)
	require.Empty(t, errs)
	p := data["generatePersona"].(map[string]any)
	require.Equal(t, "LLM", p["source"])
	require.Equal(t, a.cfg.LLMModel, p["model"])
	require.Equal(t, "Acme Voice", p["core"].(map[string]any)["name"])

	data, errs = a.do(t, "", `{ onboardingConfig { llmConfigured } }`, nil)
	require.Empty(t, errs)
	require.Equal(t, true, data["onboardingConfig"].(map[string]any)["llmConfigured"])
	for _, r := range llm.Requests() {
		require.Equal(t, "json_object", r.Body.ResponseFormat.Type)
	}
	require.Len(t, llm.Requests(), 2)
}

func TestLiveKeyCheckAgainstAFakeProvider(t *testing.T) {
	t.Parallel()
	const good = "sk-proj-goodgoodgoodgoodgoodgood1234"
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+good {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"}]}`))
	}))
	t.Cleanup(provider.Close)
	a := newApp(t, testkit.SQLite, func(c *config.Config) {
		c.LiveKeyCheck = true
		c.ProviderBaseURLs = map[string]string{"openai": provider.URL}
	})
	token, _, _ := a.register(t, "live@example.com")
	const save = `mutation($k: String!) { saveProviderKey(provider: "openai", key: $k) { status validated lastVerifiedAt } }`

	_, errs := a.do(t, token, save, map[string]any{"k": "sk-proj-badbadbadbadbadbadbadbad0000"})
	require.Len(t, errs, 1)
	require.Equal(t, models.CodeBadUserInput, errs[0].Extensions["code"])
	require.Equal(t, "key", errs[0].Extensions["field"])
	require.Equal(t, 0, countRows(t, a.db, "provider_keys"), "a refused key is not stored")

	data, errs := a.do(t, token, save, map[string]any{"k": good})
	require.Empty(t, errs)
	k := data["saveProviderKey"].(map[string]any)
	require.Equal(t, "VERIFIED", k["status"])
	require.Equal(t, true, k["validated"])
	require.NotNil(t, k["lastVerifiedAt"])
	_, errs = a.do(t, token, `mutation { completeStep(step: 1) { currentStep } }`, nil)
	require.Empty(t, errs)
}

// The summary reads persona versions without their details when the selection
// shows none of them; a selection that does gets every version's details.
func TestPersonaListsGiveTheDetailsTheySelect(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, d, withoutRateLimits)
			token, _, userID := a.register(t, "details@example.com")
			onboard(t, a, token, site(t, sitePage))
			for range 3 {
				_, err := a.wizard.GeneratePersona(context.Background(), userID, nil)
				require.NoError(t, err)
			}
			const q = `fragment More on Persona { quality { overall } }
			{ onboarding { personas { version core { name } } light: personas { id version active } }
			  personas { version ...More } }`
			data, errs := a.do(t, token, q, nil)
			require.Empty(t, errs)
			o := data["onboarding"].(map[string]any)
			for _, p := range o["personas"].([]any) {
				require.NotEmpty(t, p.(map[string]any)["core"].(map[string]any)["name"], "every version's core")
			}
			require.Len(t, o["light"], 3)
			for _, p := range data["personas"].([]any) {
				require.NotZero(t, p.(map[string]any)["quality"].(map[string]any)["overall"], "details asked through a fragment")
			}
		})
	}
}
