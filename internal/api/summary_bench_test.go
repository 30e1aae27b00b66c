package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// BenchmarkOnboardingSummary prices the onboarding summary on PostgreSQL: the whole
// server answering summaryQuery in-process ("graphql": middleware, token check,
// gqlgen, onboarding.Summary, Bun) against the reads a careful hand-written pgx
// backend would do for the same answer ("pgx": one row for the one-per-user tables
// joined, one query for each list, JSON decoded only where the answer shows it, the
// same domain rules, json.Marshal; no HTTP and no token check). The two answers are checked
// equal first. Both read one team-tier user with 7 provider keys, 10 personas and
// 3 integrations. The -parallel variants run GOMAXPROCS×4 clients at once. Compare
// the ratios within one run: the machines are shared. Figures are reported, never
// asserted.
//
//	go test -run '^$' -bench BenchmarkOnboardingSummary -benchtime=2000x ./internal/api/
func BenchmarkOnboardingSummary(b *testing.B) {
	// A benchmark is not a test: without PostgreSQL it skips even under
	// REQUIRE_SERVICES=1, so it is checked here before testkit would fail the run.
	if err := pingPostgres(); err != nil {
		b.Skipf("PostgreSQL unavailable: %v", err)
	}
	fx := newSummaryFixture(b, testkit.PostgresSchemaURL(b))
	ctx := context.Background()

	// The hand-written answer must be the server's answer, or the comparison means
	// nothing.
	want := fx.graphql(b)
	got, err := fx.handWritten(ctx)
	require.NoError(b, err)
	require.JSONEq(b, want, string(got))

	// Statements are counted before timing: the hook keeps every statement's text.
	const probe = 20
	n, _ := fx.counter.count(func() {
		for range probe {
			fx.graphql(b)
		}
	})
	graphqlStatements := float64(n) / probe
	start := fx.pgxCount.n.Load()
	for range probe {
		_, err := fx.handWritten(ctx)
		require.NoError(b, err)
	}
	pgxQueries := float64(fx.pgxCount.n.Load()-start) / probe

	b.Run("graphql", func(b *testing.B) {
		benchSerial(b, graphqlStatements, func() error { _, err := fx.serve(); return err })
	})
	b.Run("graphql-parallel", func(b *testing.B) {
		benchParallel(b, graphqlStatements, func() error { _, err := fx.serve(); return err })
	})
	b.Run("pgx", func(b *testing.B) {
		benchSerial(b, pgxQueries, func() error { _, err := fx.handWritten(ctx); return err })
	})
	b.Run("pgx-parallel", func(b *testing.B) {
		benchParallel(b, pgxQueries, func() error { _, err := fx.handWritten(ctx); return err })
	})
}

// pingPostgres reports whether the server testkit would use answers.
func pingPostgres() error {
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		u = testkit.DefaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// benchSerial runs op b.N times in sequence and reports statements/op, p50-µs, p99-µs
// and req/s next to ns/op.
func benchSerial(b *testing.B, statements float64, op func() error) {
	b.ReportAllocs()
	took := make([]time.Duration, 0, b.N)
	start := time.Now()
	for b.Loop() {
		t0 := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
	}
	reportLatency(b, statements, took, time.Since(start))
}

// benchParallel is benchSerial with GOMAXPROCS×4 goroutines sharing the b.N operations.
func benchParallel(b *testing.B, statements float64, op func() error) {
	b.ReportAllocs()
	b.SetParallelism(4)
	var (
		mu   sync.Mutex
		took = make([]time.Duration, 0, b.N)
	)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		mine := make([]time.Duration, 0, b.N)
		for pb.Next() {
			t0 := time.Now()
			if err := op(); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		took = append(took, mine...)
		mu.Unlock()
	})
	reportLatency(b, statements, took, time.Since(start))
}

func reportLatency(b *testing.B, statements float64, took []time.Duration, elapsed time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	at := func(q float64) float64 {
		return float64(took[int(q*float64(len(took)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(statements, "statements/op")
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(float64(len(took))/elapsed.Seconds(), "req/s")
}

// summaryFixture is one server and one pgx pool over a database holding one
// onboarded user.
type summaryFixture struct {
	a       *app
	counter *statementCounter
	pool    *pgxpool.Pool
	// pgxCount counts the hand-written backend's queries.
	pgxCount *queryCounter
	userID   string
	body     string // the summary request, as a client sends it
	token    string
}

// newSummaryFixture builds the fixture on the PostgreSQL database at url. The test
// helpers take a *testing.T, and a bare one (as in bench_test.go) stops its goroutine
// on failure and keeps the message to itself; so the helpers run on a goroutine of
// their own and a failure is caught here.
func newSummaryFixture(b *testing.B, url string) *summaryFixture {
	b.Helper()
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(sitePage))
	}))
	b.Cleanup(page.Close)

	t := &testing.T{}
	var fx *summaryFixture
	done := make(chan struct{})
	go func() {
		defer close(done)
		fx = seedSummary(t, url, page.URL+"/")
	}()
	<-done
	if fx == nil || t.Failed() {
		b.Fatal("setting up the onboarding summary failed (a bare testing.T keeps the helpers' message)")
	}
	// The bare T never runs its cleanups; close the server's pool before the schema
	// is dropped.
	b.Cleanup(func() { _ = fx.a.db.Close() })

	cfg, err := pgxpool.ParseConfig(url) // search_path rides along as a runtime parameter
	require.NoError(b, err)
	cfg.MaxConns = int32(fx.a.cfg.Database.MaxOpenConns) // the same pool size as the server's
	fx.pgxCount = &queryCounter{}
	cfg.ConnConfig.Tracer = fx.pgxCount
	fx.pool, err = pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(b, err)
	b.Cleanup(fx.pool.Close)
	return fx
}

// seedSummary starts the server and walks one team-tier user through onboarding,
// then adds every other provider's key, 10 personas and 3 integrations.
func seedSummary(t *testing.T, url, siteURL string) *summaryFixture {
	counter := &statementCounter{}
	a := startAppWith(t, url, wiring{services: alwaysRefilled, queryHook: counter})
	ctx := context.Background()

	token, _, userID := a.register(t, "summary-bench@example.com")
	_, err := a.db.NewUpdate().Table("users").Set("tier = ?", models.TierTeam).Where("id = ?", userID).Exec(ctx)
	require.NoError(t, err)
	onboard(t, a, token, siteURL)
	for p, k := range map[string]string{
		"anthropic": "sk-ant-abcdefghijklmnopqrstuvwxyz012345",
		"gemini":    "AIza" + strings.Repeat("b", 35),
		"mistral":   strings.Repeat("c", 32),
		"tavily":    "tvly-abcdefghijklmnopqrstuvwxyz",
		"serper":    strings.Repeat("d", 40),
		"exa":       strings.Repeat("e", 36),
	} {
		_, err := a.wizard.SaveProviderKey(ctx, userID, p, k)
		require.NoError(t, err, p)
	}
	for range 10 {
		_, err := a.wizard.GeneratePersona(ctx, userID, nil)
		require.NoError(t, err)
	}
	_, err = a.wizard.SetIntegrations(ctx, userID, []string{"WORDPRESS", "LINKEDIN", "NOTION"})
	require.NoError(t, err)

	body, err := json.Marshal(map[string]string{"query": summaryQuery})
	require.NoError(t, err)
	return &summaryFixture{a: a, counter: counter, userID: userID, token: token, body: string(body)}
}

// serve sends the summary request through the whole server, as a.raw does.
func (fx *summaryFixture) serve() (string, error) {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(fx.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+fx.token)
	rec := httptest.NewRecorder()
	fx.a.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
		return "", fmt.Errorf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String(), nil
}

func (fx *summaryFixture) graphql(b *testing.B) string {
	body, err := fx.serve()
	require.NoError(b, err)
	return body
}

// --- the hand-written backend ---

// queryCounter is a pgx tracer counting the queries a connection sends.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

const (
	// One row for the tables that hold at most one row per user.
	sqlUserRow = `SELECT u.tier,
	p.current_step, p.started_at, p.completed_at,
	w.url, w.final_url, w.title, w.description, w.headings, w.word_count, w.reading_level,
	w.language, w.top_terms, w.tone, w.style, w.brand,
	bi.id, bi.business_name, bi.description, bi.industry, bi.target_audience, bi.business_goals, bi.products,
	r.depth, r.content_types, r.auto_research, r.factual_content, r.target_audience, r.writing_tone, r.language
FROM users u
LEFT JOIN onboarding_progress p ON p.user_id = u.id
LEFT JOIN website_analyses w ON w.user_id = u.id
LEFT JOIN business_infos bi ON bi.user_id = u.id
LEFT JOIN research_preferences r ON r.user_id = u.id
WHERE u.id = $1`
	sqlSteps = `SELECT step, status, started_at, completed_at, skipped_at
FROM onboarding_steps WHERE user_id = $1 ORDER BY step`
	sqlKeys = `SELECT provider, masked, format_valid, status, last_verified_at, last_error, key_version, created_at, updated_at
FROM provider_keys WHERE user_id = $1 ORDER BY provider`
	sqlIntegrations = `SELECT kind, status FROM onboarding_integrations WHERE user_id = $1 ORDER BY kind`
	sqlPersonas     = `SELECT id, version, active, source, core, platform_personas, quality, selected_platforms
FROM personas WHERE user_id = $1 ORDER BY version DESC`
)

// handWritten reads the summary with pgx and renders it as the GraphQL response
// would be, reusing the onboarding package's rules (resume, readiness,
// personalisation) so that only data access and rendering differ.
func (fx *summaryFixture) handWritten(ctx context.Context) ([]byte, error) {
	var (
		tier     models.Tier
		progress = &models.OnboardingProgress{UserID: fx.userID, CurrentStep: models.StepProviderKeys}
		step     *int
		web      struct {
			url, finalURL, title, description, language              *string
			wordCount                                                *int
			headings, readingLevel, topTerms, tone, style, brandJSON []byte
		}
		biz struct {
			id, name, description, industry, audience *string
			goals, products                           []byte
		}
		pref struct {
			depth, audience, tone, language *string
			contentTypes                    []byte
			autoResearch, factual           *bool
		}
	)
	err := fx.pool.QueryRow(ctx, sqlUserRow, fx.userID).Scan(&tier,
		&step, &progress.StartedAt, &progress.CompletedAt,
		&web.url, &web.finalURL, &web.title, &web.description, &web.headings, &web.wordCount, &web.readingLevel,
		&web.language, &web.topTerms, &web.tone, &web.style, &web.brandJSON,
		&biz.id, &biz.name, &biz.description, &biz.industry, &biz.audience, &biz.goals, &biz.products,
		&pref.depth, &pref.contentTypes, &pref.autoResearch, &pref.factual, &pref.audience, &pref.tone, &pref.language)
	if err != nil {
		return nil, fmt.Errorf("read user row: %w", err)
	}
	if step != nil {
		progress.CurrentStep = models.Step(*step)
	}
	var website *models.WebsiteAnalysis
	if web.url != nil {
		website = &models.WebsiteAnalysis{UserID: fx.userID, URL: *web.url, FinalURL: *web.finalURL, Title: *web.title,
			Description: *web.description, WordCount: *web.wordCount, Language: *web.language}
		if err := unmarshalAll(web.headings, &website.Headings, web.readingLevel, &website.ReadingLevel,
			web.topTerms, &website.TopTerms, web.tone, &website.Tone, web.style, &website.Style, web.brandJSON, &website.Brand); err != nil {
			return nil, fmt.Errorf("website analysis: %w", err)
		}
	}
	var business *models.BusinessInfo
	if biz.id != nil {
		business = &models.BusinessInfo{ID: *biz.id, UserID: fx.userID, BusinessName: *biz.name, Description: *biz.description,
			Industry: *biz.industry, TargetAudience: *biz.audience}
		if err := unmarshalAll(biz.goals, &business.BusinessGoals, biz.products, &business.Products); err != nil {
			return nil, fmt.Errorf("business info: %w", err)
		}
	}
	var prefs *models.ResearchPreferences
	if pref.depth != nil {
		prefs = &models.ResearchPreferences{UserID: fx.userID, Depth: models.ResearchDepth(*pref.depth),
			AutoResearch: *pref.autoResearch, FactualContent: *pref.factual, TargetAudience: *pref.audience,
			WritingTone: models.WritingTone(*pref.tone), Language: *pref.language}
		if err := json.Unmarshal(pref.contentTypes, &prefs.ContentTypes); err != nil {
			return nil, fmt.Errorf("research preferences: %w", err)
		}
	}

	rows, _ := fx.pool.Query(ctx, sqlSteps, fx.userID)
	have, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*models.OnboardingStep, error) {
		s := &models.OnboardingStep{UserID: fx.userID}
		return s, row.Scan(&s.Step, &s.Status, &s.StartedAt, &s.CompletedAt, &s.SkippedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("read steps: %w", err)
	}
	progress.Steps = make([]*models.OnboardingStep, models.StepCount)
	for _, s := range have {
		progress.Steps[s.Step-1] = s
	}
	for i, s := range progress.Steps {
		if s == nil {
			progress.Steps[i] = &models.OnboardingStep{UserID: fx.userID, Step: models.Step(i + 1), Status: models.StepPending}
		}
	}

	rows, _ = fx.pool.Query(ctx, sqlKeys, fx.userID)
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*models.ProviderKey, error) {
		k := &models.ProviderKey{UserID: fx.userID}
		return k, row.Scan(&k.Provider, &k.Masked, &k.FormatValid, &k.Status, &k.LastVerifiedAt, &k.LastError,
			&k.KeyVersion, &k.CreatedAt, &k.UpdatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("read provider keys: %w", err)
	}

	rows, _ = fx.pool.Query(ctx, sqlIntegrations, fx.userID)
	integrations, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (integrationJSON, error) {
		var i integrationJSON
		return i, row.Scan(&i.Kind, &i.Status)
	})
	if err != nil {
		return nil, fmt.Errorf("read integrations: %w", err)
	}

	// Only the active persona's JSON is decoded: the others show id, version, active.
	var active *models.Persona
	rows, _ = fx.pool.Query(ctx, sqlPersonas, fx.userID)
	personas, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (personaRefJSON, error) {
		var (
			p                                 models.Persona
			core, platforms, scores, selected []byte
		)
		if err := row.Scan(&p.ID, &p.Version, &p.Active, &p.Source, &core, &platforms, &scores, &selected); err != nil {
			return personaRefJSON{}, err
		}
		if p.Active {
			if err := unmarshalAll(core, &p.Core, platforms, &p.PlatformPersonas, scores, &p.Quality, selected, &p.SelectedPlatforms); err != nil {
				return personaRefJSON{}, err
			}
			active = &p
		}
		return personaRefJSON{ID: p.ID, Version: p.Version, Active: p.Active}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read personas: %w", err)
	}
	live := fx.a.wizard.LiveKeyChecks()
	out := summaryJSON{
		Progress:            renderProgress(progress),
		Resume:              renderResume(onboarding.Resume(progress)),
		ProviderKeys:        make([]providerKeyJSON, 0, len(keys)),
		HasValidatedKey:     onboarding.HasValidatedLLMKey(keys, live),
		WebsiteAnalysis:     renderWebsite(website),
		ResearchPreferences: renderPreferences(prefs),
		Integrations:        integrations,
		ActivePersona:       renderPersona(active),
		Personas:            personas,
		PersonaReadiness:    renderReadiness(onboarding.Readiness(website, business, prefs)),
		Personalization:     renderPersonalization(onboarding.Personalization(website, business, prefs, active)),
	}
	for _, k := range keys {
		p, err := providers.Lookup(k.Provider)
		if err != nil {
			return nil, fmt.Errorf("stored key of unknown provider %q: %w", k.Provider, err)
		}
		out.ProviderKeys = append(out.ProviderKeys, providerKeyJSON{Provider: k.Provider, Kind: p.Kind, Masked: k.Masked,
			FormatValid: k.FormatValid, Status: k.Status, Validated: k.Validated(live), LastVerifiedAt: k.LastVerifiedAt,
			LastError: k.LastError, KeyVersion: k.KeyVersion, CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt})
	}
	if business != nil {
		out.BusinessInfo = &businessInfoJSON{ID: business.ID, BusinessName: business.BusinessName, Description: business.Description}
	}
	f := models.FeaturesOf(tier)
	out.Plan = planJSON{Tier: strings.ToUpper(string(f.Tier)), Providers: f.ProviderLimit(), RequestsPerMinute: f.RequestsPerMinute}
	if out.Integrations == nil {
		out.Integrations = []integrationJSON{}
	}
	if out.Personas == nil {
		out.Personas = []personaRefJSON{}
	}

	var resp struct {
		Data struct {
			Onboarding summaryJSON `json:"onboarding"`
		} `json:"data"`
	}
	resp.Data.Onboarding = out
	return json.Marshal(resp)
}

// unmarshalAll decodes pairs of (JSON, destination); a nil JSON (SQL NULL) leaves
// its destination alone.
func unmarshalAll(pairs ...any) error {
	for i := 0; i < len(pairs); i += 2 {
		data, _ := pairs[i].([]byte)
		if data == nil {
			continue
		}
		if err := json.Unmarshal(data, pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// The response types mirror summaryQuery's selection; GraphQL renders empty lists
// as [], so the render functions never leave a list nil.

type summaryJSON struct {
	Progress            progressJSON        `json:"progress"`
	Resume              resumeJSON          `json:"resume"`
	ProviderKeys        []providerKeyJSON   `json:"providerKeys"`
	HasValidatedKey     bool                `json:"hasValidatedKey"`
	WebsiteAnalysis     *websiteJSON        `json:"websiteAnalysis"`
	BusinessInfo        *businessInfoJSON   `json:"businessInfo"`
	ResearchPreferences *preferencesJSON    `json:"researchPreferences"`
	Integrations        []integrationJSON   `json:"integrations"`
	ActivePersona       *personaJSON        `json:"activePersona"`
	Personas            []personaRefJSON    `json:"personas"`
	PersonaReadiness    readinessJSON       `json:"personaReadiness"`
	Personalization     personalizationJSON `json:"personalization"`
	Plan                planJSON            `json:"plan"`
}

type progressJSON struct {
	CurrentStep int        `json:"currentStep"`
	Percentage  float64    `json:"percentage"`
	Completed   bool       `json:"completed"`
	StartedAt   *time.Time `json:"startedAt"`
	CompletedAt *time.Time `json:"completedAt"`
	Steps       []stepJSON `json:"steps"`
}

type stepJSON struct {
	Step        int               `json:"step"`
	Key         string            `json:"key"`
	Title       string            `json:"title"`
	Required    bool              `json:"required"`
	Status      models.StepStatus `json:"status"`
	StartedAt   *time.Time        `json:"startedAt"`
	CompletedAt *time.Time        `json:"completedAt"`
	SkippedAt   *time.Time        `json:"skippedAt"`
}

type resumeJSON struct {
	Step         int    `json:"step"`
	Reason       string `json:"reason"`
	Completed    bool   `json:"completed"`
	MissingSteps []int  `json:"missingSteps"`
}

type providerKeyJSON struct {
	Provider       string              `json:"provider"`
	Kind           models.ProviderKind `json:"kind"`
	Masked         string              `json:"masked"`
	FormatValid    bool                `json:"formatValid"`
	Status         models.KeyStatus    `json:"status"`
	Validated      bool                `json:"validated"`
	LastVerifiedAt *time.Time          `json:"lastVerifiedAt"`
	LastError      string              `json:"lastError"`
	KeyVersion     int                 `json:"keyVersion"`
	CreatedAt      time.Time           `json:"createdAt"`
	UpdatedAt      time.Time           `json:"updatedAt"`
}

type websiteJSON struct {
	URL          string              `json:"url"`
	FinalURL     string              `json:"finalUrl"`
	Title        string              `json:"title"`
	Description  string              `json:"description"`
	Headings     []models.Heading    `json:"headings"`
	WordCount    int                 `json:"wordCount"`
	ReadingLevel models.ReadingLevel `json:"readingLevel"`
	Language     string              `json:"language"`
	TopTerms     []models.TermCount  `json:"topTerms"`
	Tone         struct {
		Formality           string   `json:"formality"`
		Labels              []string `json:"labels"`
		CallToActionPhrases []string `json:"callToActionPhrases"`
		AvgSentenceLength   float64  `json:"avgSentenceLength"`
	} `json:"tone"`
	Style *struct {
		Tone string `json:"tone"`
	} `json:"style"`
	Brand *struct {
		Colors []string `json:"colors"`
	} `json:"brand"`
}

type businessInfoJSON struct {
	ID           string `json:"id"`
	BusinessName string `json:"businessName"`
	Description  string `json:"description"`
}

type preferencesJSON struct {
	Depth          models.ResearchDepth `json:"depth"`
	ContentTypes   []models.ContentType `json:"contentTypes"`
	AutoResearch   bool                 `json:"autoResearch"`
	FactualContent bool                 `json:"factualContent"`
	TargetAudience string               `json:"targetAudience"`
	WritingTone    models.WritingTone   `json:"writingTone"`
	Language       string               `json:"language"`
}

type integrationJSON struct {
	Kind   string `json:"kind"`
	Status string `json:"status"`
}

type personaJSON struct {
	ID      string               `json:"id"`
	Version int                  `json:"version"`
	Active  bool                 `json:"active"`
	Source  models.PersonaSource `json:"source"`
	Core    struct {
		Name      string   `json:"name"`
		Archetype string   `json:"archetype"`
		Summary   string   `json:"summary"`
		Tone      []string `json:"tone"`
		Voice     string   `json:"voice"`
		Audience  string   `json:"audience"`
		KeyTopics []string `json:"keyTopics"`
	} `json:"core"`
	PlatformPersonas []platformPersonaJSON `json:"platformPersonas"`
	Quality          struct {
		Overall float64  `json:"overall"`
		Notes   []string `json:"notes"`
	} `json:"quality"`
}

type platformPersonaJSON struct {
	Platform  models.Platform `json:"platform"`
	MaxLength int             `json:"maxLength"`
	Hashtags  int             `json:"hashtags"`
}

type personaRefJSON struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Active  bool   `json:"active"`
}

type readinessJSON struct {
	Ready   bool     `json:"ready"`
	Missing []string `json:"missing"`
	Sources []string `json:"sources"`
}

type personalizationJSON struct {
	BusinessName   string             `json:"businessName"`
	Industry       string             `json:"industry"`
	TargetAudience string             `json:"targetAudience"`
	WritingTone    models.WritingTone `json:"writingTone"`
	KeyTopics      []string           `json:"keyTopics"`
	Platforms      []models.Platform  `json:"platforms"`
	PersonaID      *string            `json:"personaId"`
	Defaulted      []string           `json:"defaulted"`
}

type planJSON struct {
	Tier              string `json:"tier"`
	Providers         *int   `json:"providers"`
	RequestsPerMinute int    `json:"requestsPerMinute"`
}

// emptyIfNil returns s, or an empty list for nil: GraphQL renders non-null lists as [].
func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func renderProgress(p *models.OnboardingProgress) progressJSON {
	out := progressJSON{CurrentStep: int(p.CurrentStep), Percentage: p.Percentage(), Completed: p.IsCompleted(),
		StartedAt: p.StartedAt, CompletedAt: p.CompletedAt, Steps: make([]stepJSON, 0, len(p.Steps))}
	for _, s := range p.Steps {
		info := s.Step.Info()
		out.Steps = append(out.Steps, stepJSON{Step: int(s.Step), Key: info.Key, Title: info.Title, Required: info.Required,
			Status: s.Status, StartedAt: s.StartedAt, CompletedAt: s.CompletedAt, SkippedAt: s.SkippedAt})
	}
	return out
}

func renderResume(r *models.ResumeInfo) resumeJSON {
	out := resumeJSON{Step: int(r.Step), Reason: r.Reason, Completed: r.Completed, MissingSteps: make([]int, 0, len(r.MissingSteps))}
	for _, s := range r.MissingSteps {
		out.MissingSteps = append(out.MissingSteps, int(s))
	}
	return out
}

func renderWebsite(w *models.WebsiteAnalysis) *websiteJSON {
	if w == nil {
		return nil
	}
	out := &websiteJSON{URL: w.URL, FinalURL: w.FinalURL, Title: w.Title, Description: w.Description,
		Headings: emptyIfNil(w.Headings), WordCount: w.WordCount, ReadingLevel: w.ReadingLevel, Language: w.Language,
		TopTerms: emptyIfNil(w.TopTerms)}
	out.Tone.Formality, out.Tone.AvgSentenceLength = w.Tone.Formality, w.Tone.AvgSentenceLength
	out.Tone.Labels, out.Tone.CallToActionPhrases = emptyIfNil(w.Tone.Labels), emptyIfNil(w.Tone.CallToActionPhrases)
	if w.Style != nil {
		out.Style = &struct {
			Tone string `json:"tone"`
		}{w.Style.Tone}
	}
	if w.Brand != nil {
		out.Brand = &struct {
			Colors []string `json:"colors"`
		}{emptyIfNil(w.Brand.Colors)}
	}
	return out
}

func renderPreferences(p *models.ResearchPreferences) *preferencesJSON {
	if p == nil {
		return nil
	}
	return &preferencesJSON{Depth: p.Depth, ContentTypes: emptyIfNil(p.ContentTypes), AutoResearch: p.AutoResearch,
		FactualContent: p.FactualContent, TargetAudience: p.TargetAudience, WritingTone: p.WritingTone, Language: p.Language}
}

func renderPersona(p *models.Persona) *personaJSON {
	if p == nil {
		return nil
	}
	out := &personaJSON{ID: p.ID, Version: p.Version, Active: p.Active, Source: p.Source,
		PlatformPersonas: make([]platformPersonaJSON, 0, len(p.PlatformPersonas))}
	c := p.Core
	out.Core.Name, out.Core.Archetype, out.Core.Summary, out.Core.Voice, out.Core.Audience = c.Name, c.Archetype, c.Summary, c.Voice, c.Audience
	out.Core.Tone, out.Core.KeyTopics = emptyIfNil(c.Tone), emptyIfNil(c.KeyTopics)
	for _, pp := range p.PlatformPersonas {
		out.PlatformPersonas = append(out.PlatformPersonas, platformPersonaJSON{Platform: pp.Platform, MaxLength: pp.MaxLength, Hashtags: pp.Hashtags})
	}
	out.Quality.Overall, out.Quality.Notes = p.Quality.Overall, emptyIfNil(p.Quality.Notes)
	return out
}

func renderReadiness(r *models.PersonaReadiness) readinessJSON {
	return readinessJSON{Ready: r.Ready, Missing: emptyIfNil(r.Missing), Sources: emptyIfNil(r.Sources)}
}

func renderPersonalization(c *models.PersonalizationContext) personalizationJSON {
	return personalizationJSON{BusinessName: c.BusinessName, Industry: c.Industry, TargetAudience: c.TargetAudience,
		WritingTone: c.WritingTone, KeyTopics: emptyIfNil(c.KeyTopics), Platforms: emptyIfNil(c.Platforms), PersonaID: c.PersonaID,
		Defaulted: emptyIfNil(c.Defaulted)}
}
