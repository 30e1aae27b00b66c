package api_test

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/api"
	inkgraph "github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

var testSecret = []byte("test-secret-test-secret-test-secret!")

// testKeyring is a fixed key ring: test data is thrown away, so its key need not be secret.
const testKeyring = "1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// app is one server over a fresh database, as a test sees it.
type app struct {
	cfg      config.Config
	db       *bun.DB
	handler  http.Handler
	accounts *auth.Service
	wizard   *onboarding.Service
	gql      *client.Client
	// clock is the rate limit's: the in-process budgets and the tier cache. It stands
	// still unless a test moves it, so a budget refills only when a test says so.
	clock *testClock
}

// testClock is a clock only the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newApp builds the whole server as main does, on a fresh database of dialect d, with
// cfg adjusted by tune.
func newApp(t testing.TB, d testkit.Dialect, tune ...func(*config.Config)) *app {
	t.Helper()
	return startApp(t, testkit.DatabaseURL(t, d), tune...)
}

// startApp starts one server instance on the database at url; several instances may
// share one PostgreSQL database, as they do behind a load balancer.
func startApp(t testing.TB, url string, tune ...func(*config.Config)) *app {
	t.Helper()
	return startAppWith(t, url, wiring{}, tune...)
}

// wiring adjusts what startAppWith builds beyond the configuration.
type wiring struct {
	// services, when set, changes the services before the server is built on them.
	services func(*inkgraph.Services, *bun.DB)
	// queryHook, when set, sees every statement the server's database runs.
	queryHook bun.QueryHook
	// logger, when set, receives the server's logs (discarded otherwise).
	logger *slog.Logger
	// eventsURL, when set, is where the events bus LISTENs (INKGRAPH_EVENTS_DATABASE_URL:
	// a direct connection while url goes through a pooler); the channel and the Redis
	// keys are then that database's.
	eventsURL string
	// callerMigrates leaves the migrations to the caller (as `inkgraph migrate up` on
	// the direct connection is a pooled deployment's).
	callerMigrates bool
	// options are passed to NewServices after the tests' own.
	options []inkgraph.Option
}

// startAppWith is startApp with w's adjustments.
func startAppWith(t testing.TB, url string, w wiring, tune ...func(*config.Config)) *app {
	t.Helper()
	cfg, err := config.Load(nil, func(string) string { return "" })
	require.NoError(t, err)
	cfg.Database.URL = url
	cfg.EventsURL = cmp.Or(w.eventsURL, url)
	cfg.JWTSecret = testSecret
	cfg.Keyring = testKeyring
	cfg.FetchAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} // the test sites
	cfg.BcryptCost = 4
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.BackupDir = t.TempDir()
	cfg.BackupSigningKey = []byte("backup-signing-key-backup-signing-key")
	for _, f := range tune {
		f(&cfg)
	}
	ctx := context.Background()
	db, err := database.Open(ctx, cfg.Database)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	if w.queryHook != nil {
		db = db.WithQueryHook(w.queryHook)
	}
	migrator := testkit.NewMigrator(t, db)
	if !w.callerMigrates {
		_, err = migrator.Up(ctx)
		require.NoError(t, err)
	}

	logger := slog.New(slog.DiscardHandler)
	if w.logger != nil {
		logger = w.logger
	}
	var bus events.Bus
	if database.IsPostgres(cfg.EventsURL) {
		// Instances on one database share a channel; tests on other databases do not hear it.
		sum := sha256.Sum256([]byte(cfg.EventsURL))
		bus, err = events.NewPostgres(ctx, cfg.EventsURL, logger, events.WithChannel("test_"+hex.EncodeToString(sum[:8])))
		require.NoError(t, err)
	} else {
		bus = events.NewMemory(logger)
	}
	t.Cleanup(func() { _ = bus.Close() })

	clock := &testClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	// Instances on one database share their Redis budgets, as they share a channel;
	// tests on other databases (and reruns) never see them.
	sum := sha256.Sum256([]byte(cfg.EventsURL + "\x00" + runID))
	svc, err := inkgraph.NewServices(ctx, cfg, db, bus, logger, append([]inkgraph.Option{
		inkgraph.WithLimiterClock(clock.Now),
		inkgraph.WithRedisKeyPrefix("test:inkgraph:" + hex.EncodeToString(sum[:8]) + ":"),
	}, w.options...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	if w.services != nil {
		w.services(svc, db)
	}
	accounts := svc.Accounts
	srv := api.New(api.Deps{
		Config: cfg, Logger: logger, Services: svc, Now: clock.Now,
		Ready: func(ctx context.Context) error {
			if n, err := migrator.Pending(ctx); err != nil || n > 0 {
				return errNotReady
			}
			return nil
		},
	})
	return &app{
		cfg: cfg, db: db, handler: srv.Handler(), accounts: accounts, wizard: svc.Wizard,
		gql: client.New(srv.Handler(), client.Path("/graphql")), clock: clock,
	}
}

// runID tells this test process's Redis keys from an earlier run's on the same URLs.
var runID = testkit.RandomHex(8)

var errNotReady = errors.New("migrations pending")

// withoutRateLimits turns the per-tier budgets off, for tests that run more operations
// per user (or anonymous address) at once than any tier allows while testing something
// else; ratelimit_test.go tests the budgets.
func withoutRateLimits(c *config.Config) { c.RateLimits = false }

// gqlError is one error of a response, as a client reads it.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// do runs a GraphQL operation in-process and returns its data and errors.
func (a *app) do(t testing.TB, token, query string, vars map[string]any) (map[string]any, []gqlError) {
	t.Helper()
	return a.doIn(t, token, "", query, vars)
}

// doIn is do naming team in X-Inkgraph-Team ("" for none): acting in the team.
func (a *app) doIn(t testing.TB, token, team, query string, vars map[string]any) (map[string]any, []gqlError) {
	t.Helper()
	opts := []client.Option{}
	for k, v := range vars {
		opts = append(opts, client.Var(k, v))
	}
	if token != "" {
		opts = append(opts, client.AddHeader("Authorization", "Bearer "+token))
	}
	if team != "" {
		opts = append(opts, client.AddHeader("X-Inkgraph-Team", team))
	}
	resp, err := a.gql.RawPost(query, opts...)
	require.NoError(t, err)
	var data map[string]any
	if resp.Data != nil {
		b, _ := json.Marshal(resp.Data)
		require.NoError(t, json.Unmarshal(b, &data))
	}
	var errs []gqlError
	if resp.Errors != nil {
		require.NoError(t, json.Unmarshal(resp.Errors, &errs))
	}
	for _, e := range errs {
		require.NotEmpty(t, e.Extensions["code"], "every error carries extensions.code: %+v", e)
	}
	return data, errs
}

const registerMutation = `mutation($email: String!, $password: String!) {
	register(input: {email: $email, password: $password}) { accessToken refreshToken expiresAt user { id email tier createdAt } }
}`

// register signs a new user up and returns the payload fields.
func (a *app) register(t testing.TB, email string) (access, refresh, userID string) {
	t.Helper()
	data, errs := a.do(t, "", registerMutation, map[string]any{"email": email, "password": "password1"})
	require.Empty(t, errs)
	p := data["register"].(map[string]any)
	return p["accessToken"].(string), p["refreshToken"].(string), p["user"].(map[string]any)["id"].(string)
}

func serve(t testing.TB, a *app) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(a.handler)
	t.Cleanup(ts.Close)
	return ts
}

func countRows(t *testing.T, db bun.IDB, table string) int {
	t.Helper()
	n, err := db.NewSelect().Table(table).Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	ts := serve(t, a)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.NotEmpty(t, resp.Header.Get("X-Request-ID"))
	}

	_, err := testkit.NewMigrator(t, a.db).Down(context.Background())
	require.NoError(t, err)
	resp, err := http.Get(ts.URL + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "migrations pending: not ready")

	resp, err = http.Get(ts.URL + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `id="graphiql"`, "GraphiQL, from the embedded assets (playground_browser_test.go runs it)")
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self';")
}

func TestDatabaseIsolationHelpers(t *testing.T) {
	t.Parallel()
	// The server tests rely on each app having its own database.
	a, b := newApp(t, testkit.SQLite), newApp(t, testkit.SQLite)
	a.register(t, "one@example.com")
	require.Equal(t, 1, countRows(t, a.db, "users"))
	require.Equal(t, 0, countRows(t, b.db, "users"))
	require.True(t, database.IsSQLite(a.db))
}

func TestRequestIDIsEchoedWhenSane(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite))
	for _, tc := range []struct{ sent, want string }{
		{"abc-123", "abc-123"},
		{"bad id with spaces", ""},
		{strings.Repeat("x", 65), ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/healthz", nil)
		req.Header.Set("X-Request-ID", tc.sent)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		got := resp.Header.Get("X-Request-ID")
		if tc.want != "" {
			require.Equal(t, tc.want, got)
		} else {
			require.NotEqual(t, tc.sent, got)
			require.Len(t, got, 16)
		}
	}
}
