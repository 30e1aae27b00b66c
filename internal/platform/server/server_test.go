package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/platform/server"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

var testSecret = []byte("test-secret-test-secret-test-secret!")

// app is one server over a fresh database, as a test sees it.
type app struct {
	cfg      config.Config
	db       *bun.DB
	handler  http.Handler
	accounts *auth.Service
	gql      *client.Client
}

// newApp builds the whole server as main does, on a fresh database of dialect d, with
// cfg adjusted by tune.
func newApp(t *testing.T, d testkit.Dialect, tune ...func(*config.Config)) *app {
	t.Helper()
	return startApp(t, testkit.DatabaseURL(t, d), tune...)
}

// startApp starts one server instance on the database at url; several instances may
// share one PostgreSQL database, as they do behind a load balancer.
func startApp(t *testing.T, url string, tune ...func(*config.Config)) *app {
	t.Helper()
	cfg, err := config.Load(nil, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	cfg.Database.URL = url
	cfg.JWTSecret = testSecret
	cfg.BcryptCost = 4
	cfg.ShutdownTimeout = 5 * time.Second
	for _, f := range tune {
		f(&cfg)
	}
	ctx := context.Background()
	db, err := database.Open(ctx, cfg.Database)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	migrator := testkit.NewMigrator(t, db)
	_, err = migrator.Up(ctx)
	require.NoError(t, err)

	logger := slog.New(slog.DiscardHandler)
	var bus events.Bus
	if database.IsPostgres(url) {
		// Instances on one database share a channel; tests on other databases do not hear it.
		sum := sha256.Sum256([]byte(url))
		bus, err = events.NewPostgres(ctx, url, logger, events.WithChannel("test_"+hex.EncodeToString(sum[:8])))
		require.NoError(t, err)
	} else {
		bus = events.NewMemory(logger)
	}
	t.Cleanup(func() { _ = bus.Close() })

	accounts, err := auth.NewService(db, auth.Config{
		Tokens:     auth.TokenConfig{Secret: cfg.JWTSecret, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: cfg.AccessTokenTTL},
		RefreshTTL: cfg.RefreshTokenTTL, BcryptCost: cfg.BcryptCost, ReuseGrace: 2 * time.Second,
	}, bus, logger, time.Now)
	require.NoError(t, err)
	srv := server.New(server.Deps{Config: cfg, Logger: logger, Accounts: accounts, Ready: func(ctx context.Context) error {
		if n, err := migrator.Pending(ctx); err != nil || n > 0 {
			return errNotReady
		}
		return nil
	}})
	return &app{cfg: cfg, db: db, handler: srv.Handler(), accounts: accounts, gql: client.New(srv.Handler(), client.Path("/graphql"))}
}

var errNotReady = errors.New("migrations pending")

// gqlError is one error of a response, as a client reads it.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// do runs a GraphQL operation in-process and returns its data and errors.
func (a *app) do(t *testing.T, token, query string, vars map[string]any) (map[string]any, []gqlError) {
	t.Helper()
	opts := []client.Option{}
	for k, v := range vars {
		opts = append(opts, client.Var(k, v))
	}
	if token != "" {
		opts = append(opts, client.AddHeader("Authorization", "Bearer "+token))
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
func (a *app) register(t *testing.T, email string) (access, refresh, userID string) {
	t.Helper()
	data, errs := a.do(t, "", registerMutation, map[string]any{"email": email, "password": "password1"})
	require.Empty(t, errs)
	p := data["register"].(map[string]any)
	return p["accessToken"].(string), p["refreshToken"].(string), p["user"].(map[string]any)["id"].(string)
}

func serve(t *testing.T, a *app) *httptest.Server {
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
	require.Contains(t, string(body), "graphiql")
	require.Contains(t, string(body), "subscriptionUrl", "GraphiQL is wired for subscriptions")
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
