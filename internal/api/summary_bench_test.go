package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
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
	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// BenchmarkPerfSummary prices the onboarding summary on PostgreSQL, with 1 and with 50
// persona versions, against the reads a careful hand-written pgx backend does for the
// same answer ("pgx": one row for the one-per-user tables joined, one query for each
// list, JSON decoded only where the answer shows it, the same domain rules,
// json.Marshal, served by a plain net/http handler). The answers are checked equal
// first. Both are served over real HTTP on loopback: the whole server with the
// production logger (JSON at info, to a file), metrics on, tracing off; the pgx
// handler bare; the collector's heap floor as the binary sets it, for the process.
// Both read one team-tier user with 7 provider keys and 3 integrations.
//
// Reported side by side, ratios taken within the run (the machines are shared):
//
//   - c=1: requests alternate between the two, one at a time: p50-µs, p99-µs and
//     pgx-p50-µs, pgx-p99-µs; x_pgx_p50 = p50 / pgx p50 (target ≤ 1.3);
//     p99_per_p50 (target ≤ 3) and pgx-p99_per_p50, the hand-written reading's.
//
//   - 8 clients: rounds of summaryRound each, ours then pgx's, summaryRounds times;
//     c8-req/s, pgx-c8-req/s and x_pgx_c8 (the median of the rounds' ratios; target ≥ 0.6).
//
//   - the server side of one request (handler called in process, no network):
//     allocs/req, B/req and x_pgx_allocs, x_pgx_bytes (target ≤ 2).
//
//   - statements/req, pgx-statements/req.
//
//     go test -run '^$' -bench BenchmarkPerfSummary -benchtime=2000x ./internal/api/
func BenchmarkPerfSummary(b *testing.B) {
	// A benchmark is not a test: without PostgreSQL it skips even under
	// REQUIRE_SERVICES=1, so it is checked here before testkit would fail the run.
	if err := pingPostgres(); err != nil {
		b.Skipf("PostgreSQL unavailable: %v", err)
	}
	productionGC(b)
	for _, personas := range []int{1, 50} {
		b.Run(fmt.Sprintf("personas=%d", personas), func(b *testing.B) {
			benchSummary(b, personas)
		})
	}
}

const (
	summaryRounds  = 3
	summaryRound   = time.Second
	summaryClients = 8
	summaryAllocN  = 200 // requests whose allocations are averaged
)

func benchSummary(b *testing.B, personas int) {
	fx := newSummaryFixture(b, testkit.PostgresSchemaURL(b), personas)
	ctx := context.Background()

	// The hand-written answer must be the server's answer, or the comparison means
	// nothing.
	want := fx.graphql(b)
	got, err := fx.handWritten(ctx)
	require.NoError(b, err)
	require.JSONEq(b, withoutExtensions(b, []byte(want)), string(got), "the server adds its limits in extensions")

	// Statements are counted before timing: the hook keeps every statement's text.
	const probe = 20
	n, _ := fx.counter.count(func() {
		for range probe {
			fx.graphql(b)
		}
	})
	start := fx.pgxCount.n.Load()
	for range probe {
		_, err := fx.handWritten(ctx)
		require.NoError(b, err)
	}
	pgxStatements := float64(fx.pgxCount.n.Load()-start) / probe

	ours := serveLoopbackSummary(b, fx.a.handler)
	theirs := serveLoopbackSummary(b, fx.pgxHandler())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * summaryClients}}
	b.Cleanup(client.CloseIdleConnections)
	post := func(addr string) error { return fx.post(client, addr) }
	for _, addr := range []string{ours, theirs} { // warm both: connections, caches
		for range 50 {
			require.NoError(b, post(addr))
		}
	}

	// c=1, interleaved request by request.
	oursTook := make([]time.Duration, 0, b.N)
	pgxTook := make([]time.Duration, 0, b.N)
	for b.Loop() {
		for _, side := range []struct {
			addr string
			took *[]time.Duration
		}{{ours, &oursTook}, {theirs, &pgxTook}} {
			t0 := time.Now()
			if err := post(side.addr); err != nil {
				b.Fatal(err)
			}
			*side.took = append(*side.took, time.Since(t0))
		}
	}
	p50, p99 := percentiles(oursTook)
	pgxP50, pgxP99 := percentiles(pgxTook)

	// 8 clients, interleaved round by round.
	var oursRPS, pgxRPS, ratios []float64
	for range summaryRounds {
		o := throughput(b, summaryClients, summaryRound, func() error { return post(ours) })
		p := throughput(b, summaryClients, summaryRound, func() error { return post(theirs) })
		oursRPS, pgxRPS, ratios = append(oursRPS, o), append(pgxRPS, p), append(ratios, o/p)
	}

	// The server side of one request, in process.
	allocs, bytes := serverCost(b, fx.a.handler, fx.request)
	pgxAllocs, pgxBytes := serverCost(b, fx.pgxHandler(), fx.request)

	b.ReportMetric(float64(n)/probe, "statements/req")
	b.ReportMetric(pgxStatements, "pgx-statements/req")
	b.ReportMetric(p50, "p50-µs")
	b.ReportMetric(p99, "p99-µs")
	b.ReportMetric(pgxP50, "pgx-p50-µs")
	b.ReportMetric(pgxP99, "pgx-p99-µs")
	b.ReportMetric(p50/pgxP50, "x_pgx_p50")
	b.ReportMetric(p99/p50, "p99_per_p50")
	b.ReportMetric(pgxP99/pgxP50, "pgx-p99_per_p50") // the machine's own tail, for comparison
	b.ReportMetric(medianOf(oursRPS), "c8-req/s")
	b.ReportMetric(medianOf(pgxRPS), "pgx-c8-req/s")
	b.ReportMetric(medianOf(ratios), "x_pgx_c8")
	b.ReportMetric(allocs, "allocs/req")
	b.ReportMetric(bytes, "B/req")
	b.ReportMetric(pgxAllocs, "pgx-allocs/req")
	b.ReportMetric(pgxBytes, "pgx-B/req")
	b.ReportMetric(allocs/pgxAllocs, "x_pgx_allocs")
	b.ReportMetric(bytes/pgxBytes, "x_pgx_bytes")
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

// serveLoopbackSummary serves h on 127.0.0.1 until the benchmark ends.
func serveLoopbackSummary(b *testing.B, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	b.Cleanup(func() { _ = hs.Close() })
	return "http://" + ln.Addr().String() + "/graphql"
}

// percentiles returns the p50 and p99 of took, in µs.
func percentiles(took []time.Duration) (p50, p99 float64) {
	slices.Sort(took)
	at := func(q float64) float64 {
		return float64(took[int(q*float64(len(took)-1))].Nanoseconds()) / 1e3
	}
	return at(0.50), at(0.99)
}

func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// throughput runs op from clients goroutines for d and returns the operations per second.
func throughput(b *testing.B, clients int, d time.Duration, op func() error) float64 {
	var done atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(d)
	for range clients {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds()
}

// serverCost returns the allocations and bytes allocated per request that h serves
// in process (the request and the recorder's buffer made beforehand), averaged over
// summaryAllocN requests. Concurrent resolvers allocate on their own goroutines, so
// this reads the process's counters rather than testing.AllocsPerRun's single thread.
func serverCost(b *testing.B, h http.Handler, request func() *http.Request) (allocs, bytes float64) {
	reqs := make([]*http.Request, summaryAllocN)
	recs := make([]*httptest.ResponseRecorder, summaryAllocN)
	for i := range reqs {
		reqs[i], recs[i] = request(), httptest.NewRecorder()
		// The body's buffer is made beforehand, as a connection's are: a recorder's
		// growing with the writes is not the server's cost.
		recs[i].Body.Grow(64 << 10)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range reqs {
		h.ServeHTTP(recs[i], reqs[i])
	}
	runtime.ReadMemStats(&after)
	for _, rec := range recs {
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	return float64(after.Mallocs-before.Mallocs) / summaryAllocN, float64(after.TotalAlloc-before.TotalAlloc) / summaryAllocN
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
// helpers take a *testing.T, and a bare one stops its goroutine on failure and keeps
// the message to itself; so the helpers run on a goroutine of their own and a
// failure is caught here.
func newSummaryFixture(b *testing.B, url string, personas int) *summaryFixture {
	b.Helper()
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(sitePage))
	}))
	b.Cleanup(page.Close)
	logFile, err := os.Create(filepath.Join(b.TempDir(), "inkgraph.log"))
	require.NoError(b, err)
	b.Cleanup(func() { _ = logFile.Close() })

	t := &testing.T{}
	var fx *summaryFixture
	done := make(chan struct{})
	go func() {
		defer close(done)
		fx = seedSummary(t, url, page.URL+"/", logging.New(logFile, slog.LevelInfo), personas)
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
// then adds every other provider's key, personas versions and 3 integrations.
func seedSummary(t *testing.T, url, siteURL string, logger *slog.Logger, personas int) *summaryFixture {
	counter := &statementCounter{}
	a := startAppWith(t, url, wiring{services: alwaysRefilled, queryHook: counter, logger: logger})
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
	for range personas {
		_, err := a.wizard.GeneratePersona(ctx, userID, nil)
		require.NoError(t, err)
	}
	_, err = a.wizard.SetIntegrations(ctx, userID, []string{"WORDPRESS", "LINKEDIN", "NOTION"})
	require.NoError(t, err)

	body, err := json.Marshal(map[string]string{"query": summaryQuery})
	require.NoError(t, err)
	return &summaryFixture{a: a, counter: counter, userID: userID, token: token, body: string(body)}
}

// request is the summary request as a client sends it.
func (fx *summaryFixture) request() *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(fx.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+fx.token)
	return req
}

// serve sends the summary request through the whole server in process, as a.raw does.
func (fx *summaryFixture) serve() (string, error) {
	rec := httptest.NewRecorder()
	fx.a.handler.ServeHTTP(rec, fx.request())
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

// post sends the summary request to url over HTTP and reads the whole answer.
func (fx *summaryFixture) post(client *http.Client, url string) error {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(fx.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+fx.token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte(`"errors"`)) {
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return nil
}

// pgxHandler serves the hand-written reading: the request body read, the answer
// written, nothing else (no token check, no logging).
func (fx *summaryFixture) pgxHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		out, err := fx.handWritten(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
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
