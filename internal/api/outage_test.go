package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// cutProxy is a loopback TCP proxy in front of a server (PostgreSQL here) that a test
// can cut, as if the server had gone away, and restore: while cut, connections to it
// are refused and the ones open are dropped.
type cutProxy struct {
	t      testing.TB
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newCutProxy(t testing.TB, target string) *cutProxy {
	t.Helper()
	p := &cutProxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.addr = ln.Addr().String()
	p.start(ln)
	t.Cleanup(func() {
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *cutProxy) start(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.pipe(c) })
		}
	})
}

func (p *cutProxy) pipe(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, server) {
		client.Close()
		server.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(server, client); server.Close() })
	wg.Go(func() { _, _ = io.Copy(client, server); client.Close() })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// track registers an open pair, unless the proxy was cut meanwhile.
func (p *cutProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

// cut stops listening (new connections are refused) and drops the open ones.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// restore listens again on the same address.
func (p *cutProxy) restore() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(p.t, err)
	p.start(ln)
}

// postGraphQL sends query over real HTTP with the given Accept header.
func postGraphQL(t *testing.T, baseURL, accept, token, query string) (int, http.Header, map[string]json.RawMessage) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequest(http.MethodPost, baseURL+"/graphql", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]json.RawMessage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, resp.Header, out
}

// requireUnavailable asserts that out holds only SERVICE_UNAVAILABLE errors with a
// retryAfter, and no internals.
func requireUnavailable(t *testing.T, out map[string]json.RawMessage) {
	t.Helper()
	var errs []gqlError
	require.NoError(t, json.Unmarshal(out["errors"], &errs), "response: %s", out)
	require.NotEmpty(t, errs)
	for _, e := range errs {
		require.Equal(t, models.CodeServiceUnavailable, e.Extensions["code"], "%+v", e)
		require.InDelta(t, 5, e.Extensions["retryAfter"], 0, "%+v", e)
		require.NotContains(t, e.Message, "127.0.0.1", "no internals reach the client")
	}
}

// TestDatabaseOutageIsServiceUnavailable runs a server on a PostgreSQL that goes away
// (a proxy the test cuts; the shared server keeps running) and comes back: meanwhile,
// every operation needing it answers SERVICE_UNAVAILABLE with retryAfter, as 503 with
// Retry-After under application/graphql-response+json and 200 under application/json;
// nothing is stored; afterwards the same requests succeed again.
func TestDatabaseOutageIsServiceUnavailable(t *testing.T) {
	t.Parallel()
	dbURL := testkit.DatabaseURL(t, testkit.Postgres)
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.addr
	a := startApp(t, u.String(), withoutRateLimits)
	// The test reads the database directly, not through the proxy.
	direct, err := database.Open(context.Background(), database.Config{URL: dbURL})
	require.NoError(t, err)
	t.Cleanup(func() { _ = direct.Close() })
	ts := serve(t, a)

	token, _, _ := a.register(t, "outage@example.com")
	const me = `{ me { email } }`
	const register = `mutation { register(input: {email: "during@example.com", password: "password1"}) { accessToken } }`
	status, _, out := postGraphQL(t, ts.URL, "application/graphql-response+json", token, me)
	require.Equal(t, http.StatusOK, status, "%s", out)
	users := countRows(t, direct, "users")

	proxy.cut()
	for _, query := range []string{me, register} {
		status, header, out := postGraphQL(t, ts.URL, "application/graphql-response+json", token, query)
		require.Equal(t, http.StatusServiceUnavailable, status, "%s: %s", query, out)
		require.Equal(t, "5", header.Get("Retry-After"))
		require.Contains(t, header.Get("Content-Type"), "application/graphql-response+json")
		require.NotContains(t, out, "data", "a 5xx response has no data entry")
		requireUnavailable(t, out)

		status, header, out = postGraphQL(t, ts.URL, "application/json", token, query)
		require.Equal(t, http.StatusOK, status, "application/json is always 200: %s", out)
		require.Empty(t, header.Get("Retry-After"))
		requireUnavailable(t, out)
	}
	require.Equal(t, users, countRows(t, direct, "users"), "nothing stored while the database was away")

	proxy.restore()
	status, _, out = postGraphQL(t, ts.URL, "application/graphql-response+json", token, me)
	require.Equal(t, http.StatusOK, status, "%s", out)
	require.JSONEq(t, `{"me":{"email":"outage@example.com"}}`, string(out["data"]))
	require.Nil(t, out["errors"])
}

// TestUnreachableIsNarrow pins which failures count as an outage.
func TestUnreachableIsNarrow(t *testing.T) {
	t.Parallel()
	refused := func() error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		_, err = net.Dial("tcp", addr)
		require.Error(t, err)
		return err
	}()
	// SQLite's "database is locked": the embedded database is there, only contended.
	path := "sqlite:" + filepath.Join(t.TempDir(), "busy.db")
	holder, err := database.Open(context.Background(), database.Config{URL: path, BusyTimeout: time.Millisecond})
	require.NoError(t, err)
	defer holder.Close()
	waiter, err := database.Open(context.Background(), database.Config{URL: path, BusyTimeout: time.Millisecond})
	require.NoError(t, err)
	defer waiter.Close()
	tx, err := holder.BeginTx(context.Background(), nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	busy := database.RunInTx(context.Background(), waiter, func(context.Context, bun.Tx) error { return nil })
	require.ErrorContains(t, busy, "SQLITE_BUSY")

	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused dial, wrapped twice", models.Internal(errors.Join(errors.New("find user"), refused), "find user"), true},
		{"sqlite busy", models.Internal(busy, "save"), false},
		{"deadline of a query", models.Internal(context.DeadlineExceeded, "slow"), false},
		{"a plain bug", errors.New("nil map"), false},
		{"not found", &models.Error{Code: models.CodeNotFound, Message: "user not found"}, false},
		{"nil", nil, false},
	} {
		require.Equal(t, tc.want, database.Unreachable(tc.err), tc.name)
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestStripeOutageSaysWhenToRetry: Stripe unreachable stays UPSTREAM_UNAVAILABLE (a third
// party, as the LLM is), now with a retryAfter.
func TestStripeOutageSaysWhenToRetry(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withStripe("http://"+closedPort(t)), withoutRateLimits)
	token, _, _ := a.register(t, "stripe-down@example.com")
	_, errs := a.do(t, token, `mutation { createCheckoutSession(tier: PRO) { url } }`, nil)
	require.Len(t, errs, 1)
	require.Equal(t, models.CodeUpstreamUnavailable, errs[0].Extensions["code"], "%+v", errs[0])
	require.InDelta(t, 5, errs[0].Extensions["retryAfter"], 0, "%+v", errs[0])
}
