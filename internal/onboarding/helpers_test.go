package onboarding_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/internal/onboarding/website"
	"github.com/inkgraph/inkgraph/internal/persona"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/platform/keyring"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// Well-formed keys (see providers.CheckFormat); none of them is real.
const (
	openaiKey    = "sk-inkgraphTestKeyOpenAI0001"
	openaiKey2   = "sk-inkgraphTestKeyOpenAI0002"
	anthropicKey = "sk-ant-inkgraphTestKeyClaude01"
	geminiKey    = "AQ.inkgraphTestKeyGemini0001"
	mistralKey   = "inkgraphTestKeyMistral0000000001"
	tavilyKey    = "tvly-inkgraphTestKeyTavily01"

	// What the fake provider answers, by key.
	goodKey  = "sk-liveGoodKey00000000000001" // 200
	badKey   = "sk-liveBadKey000000000000001" // 401
	flakyKey = "sk-liveFlakyKey0000000000001" // 500
)

func ringKey(b byte) []byte { return bytes.Repeat([]byte{b}, keyring.KeySize) }

func newRing(t *testing.T, versions ...int) *keyring.Ring {
	t.Helper()
	keys := make(map[int][]byte, len(versions))
	for _, v := range versions {
		keys[v] = ringKey(byte(v))
	}
	r, err := keyring.New(keys)
	require.NoError(t, err)
	return r
}

// fixture is one service over a shared database, with its own clock, bus, tiers
// and test site. Users made through it are unique, so fixtures on one database
// do not see each other's rows (except through RotateKeys, which is global).
type fixture struct {
	db    *bun.DB
	svc   *onboarding.Service
	clock *testkit.Clock
	bus   *events.Memory
	tiers *testkit.Tiers
	site  *httptest.Server
	deps  onboarding.Deps
}

func logger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newFixture(t *testing.T, db *bun.DB, opts ...func(*onboarding.Deps)) *fixture {
	t.Helper()
	f := &fixture{db: db, clock: testkit.NewClock(time.Time{}), bus: events.NewMemory(logger()), tiers: testkit.NewTiers()}
	t.Cleanup(func() { _ = f.bus.Close() })
	f.site = newSite(t)
	f.deps = onboarding.Deps{
		DB:        db,
		Ring:      newRing(t, 1),
		Website:   website.New(website.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, nil, logger()),
		Generator: persona.NewGenerator(nil, logger()),
		Tiers:     f.tiers,
		Events:    f.bus,
		Logger:    logger(),
		Now:       f.clock.Now,
	}
	for _, o := range opts {
		o(&f.deps)
	}
	var err error
	f.svc, err = onboarding.NewService(f.deps)
	require.NoError(t, err)
	return f
}

// with returns another service over the fixture's database, clock and tiers, changed by opts.
func (f *fixture) with(t *testing.T, opts ...func(*onboarding.Deps)) *onboarding.Service {
	t.Helper()
	d := f.deps
	for _, o := range opts {
		o(&d)
	}
	svc, err := onboarding.NewService(d)
	require.NoError(t, err)
	return svc
}

func withRing(r *keyring.Ring) func(*onboarding.Deps) {
	return func(d *onboarding.Deps) { d.Ring = r }
}

func withLiveChecks(p *fakeProvider) func(*onboarding.Deps) {
	return func(d *onboarding.Deps) {
		d.LiveKeyCheck = true
		d.Verifier = providers.NewVerifier(http.DefaultClient, map[string]string{"openai": p.srv.URL, "anthropic": p.srv.URL})
	}
}

// user inserts a user of the tier and returns its ID.
func (f *fixture) user(t *testing.T, tier models.Tier) string {
	t.Helper()
	id := testkit.NewUser(t, f.db, tier, f.clock.Now())
	f.tiers.Set(id, tier)
	return id
}

// count counts the user's rows in table.
func (f *fixture) count(t *testing.T, table, userID string) int {
	t.Helper()
	n, err := f.db.NewSelect().Table(table).Where("user_id = ?", userID).Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

// dataTables are the tables that hold what a user enters in the wizard.
func dataTables() []string {
	return []string{"provider_keys", "website_analyses", "business_infos", "research_preferences", "onboarding_integrations", "personas"}
}

func (f *fixture) counts(t *testing.T, userID string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range dataTables() {
		out[table] = f.count(t, table, userID)
	}
	return out
}

// storedKey reads a key row as stored, ciphertext included.
func (f *fixture) storedKey(t *testing.T, userID, provider string) *models.ProviderKey {
	t.Helper()
	k := new(models.ProviderKey)
	require.NoError(t, f.db.NewSelect().Model(k).Where("user_id = ? AND provider = ?", userID, provider).Scan(context.Background()))
	return k
}

func (f *fixture) progress(t *testing.T, userID string) *models.OnboardingProgress {
	t.Helper()
	p, err := f.svc.Progress(context.Background(), userID)
	require.NoError(t, err)
	return p
}

func (f *fixture) personas(t *testing.T, userID string) []*models.Persona {
	t.Helper()
	ps, err := f.svc.Personas(context.Background(), userID)
	require.NoError(t, err)
	return ps
}

func (f *fixture) saveKey(t *testing.T, userID, provider, key string) *models.ProviderKey {
	t.Helper()
	k, err := f.svc.SaveProviderKey(context.Background(), userID, provider, key)
	require.NoError(t, err)
	return k
}

func (f *fixture) business(t *testing.T, userID string) *models.BusinessInfo {
	t.Helper()
	b, err := f.svc.CreateBusinessInfo(context.Background(), userID, businessInput())
	require.NoError(t, err)
	return b
}

func (f *fixture) prefs(t *testing.T, userID string) *models.ResearchPreferences {
	t.Helper()
	p, err := f.svc.SaveResearchPreferences(context.Background(), userID, prefsInput())
	require.NoError(t, err)
	return p
}

func (f *fixture) completeStep(t *testing.T, userID string, step models.Step) *models.OnboardingProgress {
	t.Helper()
	p, err := f.svc.CompleteStep(context.Background(), userID, step)
	require.NoError(t, err)
	return p
}

// throughStep3 enters the data of the required steps and completes them.
func (f *fixture) throughStep3(t *testing.T, userID string) *models.OnboardingProgress {
	t.Helper()
	f.saveKey(t, userID, "openai", openaiKey)
	f.completeStep(t, userID, models.StepProviderKeys)
	f.business(t, userID)
	f.completeStep(t, userID, models.StepWebsite)
	f.prefs(t, userID)
	return f.completeStep(t, userID, models.StepResearch)
}

func ptr[T any](v T) *T { return &v }

func businessInput() onboarding.BusinessInfoInput {
	return onboarding.BusinessInfoInput{
		BusinessName:   ptr("  Acme Analytics "),
		Description:    ptr("Analytics dashboards that give small teams answers about their customers in minutes."),
		Industry:       ptr("Software"),
		TargetAudience: ptr("owners of small online shops"),
		BusinessGoals:  []string{"grow newsletter signups", " grow newsletter signups ", "", "publish weekly"},
		Products:       []string{"Dashboards", "Customer reports"},
	}
}

func prefsInput() onboarding.PreferencesInput {
	return onboarding.PreferencesInput{
		Depth:          models.DepthComprehensive,
		ContentTypes:   []models.ContentType{"BLOG_POST", "NEWSLETTER", "BLOG_POST"},
		AutoResearch:   true,
		FactualContent: true,
		TargetAudience: " founders of small SaaS companies ",
		WritingTone:    "FRIENDLY",
		Language:       "en",
	}
}

// requireTime checks got is set and the same instant as want, whatever its location.
func requireTime(t *testing.T, want time.Time, got *time.Time, msgAndArgs ...any) {
	t.Helper()
	require.NotNil(t, got, msgAndArgs...)
	require.True(t, want.Equal(*got), "want %s, got %s %v", want, *got, fmt.Sprint(msgAndArgs...))
}

func statuses(p *models.OnboardingProgress) []models.StepStatus {
	out := make([]models.StepStatus, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Status
	}
	return out
}

// newSite serves pages for website analysis on 127.0.0.1.
func newSite(t *testing.T) *httptest.Server {
	t.Helper()
	page := func(title, description string, words int) string {
		body := strings.Repeat("We help small teams understand their customers with clear analytics dashboards and honest weekly reports. ", words/16+1)
		return `<!doctype html><html lang="en"><head><title>` + title + `</title>` +
			`<meta name="description" content="` + description + `"></head><body><h1>` + title + `</h1><p>` + body + `</p></body></html>`
	}
	mux := http.NewServeMux()
	serve := func(path, html string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(html))
		})
	}
	serve("/{$}", page("Acme Analytics", "Analytics for small teams.", 120))
	serve("/v2", page("Acme Analytics Relaunched", "Analytics for growing teams.", 120))
	serve("/thin", `<!doctype html><html><head><title>Soon</title></head><body><p>Coming soon.</p></body></html>`)
	srv := httptest.NewServer(mux) // unknown paths answer 404
	t.Cleanup(srv.Close)
	return srv
}

// fakeProvider answers the providers' key-check probes: the status set for the key,
// 401 for any other.
type fakeProvider struct {
	srv    *httptest.Server
	mu     sync.Mutex
	status map[string]int
	hits   int
}

func newFakeProvider(t *testing.T) *fakeProvider {
	t.Helper()
	p := &fakeProvider{status: map[string]int{goodKey: http.StatusOK, flakyKey: http.StatusInternalServerError}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1/models" {
			http.NotFound(w, r)
			return
		}
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			key = r.Header.Get("x-api-key")
		}
		p.mu.Lock()
		p.hits++
		status, known := p.status[key]
		p.mu.Unlock()
		if !known {
			status = http.StatusUnauthorized
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"data":[]}`))
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakeProvider) set(key string, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status[key] = status
}

func (p *fakeProvider) requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits
}
