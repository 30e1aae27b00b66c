package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkgraph/inkgraph/internal/platform/metrics"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	inkgraph "github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/ratelimit"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// answer is one HTTP response to a GraphQL request, as a client reads it.
type answer struct {
	status     int
	retryAfter string // the Retry-After header
	hasData    bool   // whether the body has a data entry at all
	data       json.RawMessage
	errors     []gqlError
}

// limited reports whether the answer is a refusal for rate limiting.
func (r answer) limited() bool {
	return len(r.errors) > 0 && r.errors[0].Extensions["code"] == models.CodeRateLimited
}

// send posts query in-process, from the in-process client address (192.0.2.1) or, with
// a forwardedFor, through that X-Forwarded-For header.
func (a *app) send(t *testing.T, token, query string, forwardedFor ...string) answer {
	t.Helper()
	b, err := json.Marshal(map[string]string{"query": query})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, f := range forwardedFor {
		req.Header.Add("X-Forwarded-For", f)
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return readAnswer(t, rec.Code, rec.Header(), rec.Body.Bytes())
}

func readAnswer(t *testing.T, status int, header http.Header, body []byte) answer {
	t.Helper()
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &raw), string(body))
	r := answer{status: status, retryAfter: header.Get("Retry-After"), data: raw["data"]}
	_, r.hasData = raw["data"]
	if e, ok := raw["errors"]; ok {
		require.NoError(t, json.Unmarshal(e, &r.errors))
	}
	return r
}

// spend runs n cheap queries as token and requires every one admitted.
func (a *app) spend(t *testing.T, token string, n int) {
	t.Helper()
	for i := range n {
		r := a.send(t, token, `{ __typename }`)
		require.Equal(t, http.StatusOK, r.status, "request %d: %+v", i+1, r.errors)
		require.Empty(t, r.errors, "request %d", i+1)
	}
}

// admitted sends up to n cheap queries as token and counts those admitted.
func (a *app) admitted(t *testing.T, token string, n int, forwardedFor ...string) int {
	t.Helper()
	count := 0
	for range n {
		r := a.send(t, token, `{ __typename }`, forwardedFor...)
		if r.limited() {
			continue
		}
		require.Empty(t, r.errors)
		count++
	}
	return count
}

// requireRefused checks a refusal: 429, Retry-After, and the GraphQL error without
// data.
func requireRefused(t *testing.T, r answer, retryAfter int) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, r.status)
	require.Equal(t, fmt.Sprint(retryAfter), r.retryAfter)
	require.False(t, r.hasData, "a refused operation did not run: no data entry")
	require.Len(t, r.errors, 1)
	require.Equal(t, models.CodeRateLimited, r.errors[0].Extensions["code"])
	require.EqualValues(t, retryAfter, r.errors[0].Extensions["retryAfter"])
}

func TestRateLimitFreeTier(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	token, _, _ := a.register(t, "free@example.com")

	a.spend(t, token, 20)
	refused := a.send(t, token, `{ me { id } }`)
	requireRefused(t, refused, 3) // 20 per minute: one back every 3 s
	require.Contains(t, refused.errors[0].Message, "20 requests per minute")

	// Refusals spend nothing, and the budget refills one request per interval.
	requireRefused(t, a.send(t, token, `{ me { id } }`), 3)
	a.clock.Advance(2 * time.Second)
	requireRefused(t, a.send(t, token, `{ me { id } }`), 1)
	a.clock.Advance(time.Second)
	a.spend(t, token, 1)
	requireRefused(t, a.send(t, token, `{ me { id } }`), 3)

	a.clock.Advance(time.Minute)
	require.Equal(t, 20, a.admitted(t, token, 25), "a minute refills the whole burst, no more")

	// Another user has a budget of their own.
	other, _, _ := a.register(t, "other@example.com")
	a.spend(t, other, 1)
}

func TestRateLimitMutationCostsItsRootFields(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	token, _, userID := a.register(t, "batch@example.com")
	var refresh []string
	for range 4 {
		p, err := a.accounts.Login(context.Background(), auth.Credentials{Email: "batch@example.com", Password: "password1"})
		require.NoError(t, err)
		refresh = append(refresh, p.RefreshToken)
	}
	logouts := fmt.Sprintf(`mutation {
		a: logout(refreshToken: %q) { sessionId }
		b: logout(refreshToken: %q) { sessionId }
		... on Mutation { c: logout(refreshToken: %q) { sessionId } }
		d: logout(refreshToken: %q) { sessionId }
		skipped: logout(refreshToken: "nope") @skip(if: true) { sessionId }
		__typename
	}`, refresh[0], refresh[1], refresh[2], refresh[3])
	revoked := func() int {
		n, err := a.db.NewSelect().Table("sessions").Where("user_id = ? AND revoked_at IS NOT NULL", userID).Count(context.Background())
		require.NoError(t, err)
		return int(n)
	}

	a.spend(t, token, 17)
	// Four logouts (aliases and fragments count, a skipped field and __typename do
	// not) cost four: more than the three left, so none runs.
	refused := a.send(t, token, logouts)
	requireRefused(t, refused, 3)
	require.Zero(t, revoked(), "no resolver ran")

	a.clock.Advance(3 * time.Second) // four left
	r := a.send(t, token, logouts)
	require.Equal(t, http.StatusOK, r.status)
	require.Empty(t, r.errors)
	require.Equal(t, 4, revoked())
	requireRefused(t, a.send(t, token, `{ __typename }`), 3)

	// More at once than the burst: no wait would help, so no Retry-After.
	a.clock.Advance(time.Minute)
	var big strings.Builder
	big.WriteString("mutation {")
	for i := range 21 {
		fmt.Fprintf(&big, " m%d: logout(refreshToken: \"igr_unknown\") { sessionId }", i)
	}
	big.WriteString(" }")
	tooBig := a.send(t, token, big.String())
	require.Equal(t, http.StatusTooManyRequests, tooBig.status)
	require.Empty(t, tooBig.retryAfter)
	require.Equal(t, models.CodeRateLimited, tooBig.errors[0].Extensions["code"])
	require.NotContains(t, tooBig.errors[0].Extensions, "retryAfter")
	require.Contains(t, tooBig.errors[0].Message, "21 mutations")
	require.Equal(t, 20, a.admitted(t, token, 21), "the refused batch spent nothing")
}

func TestRateLimitPerTier(t *testing.T) {
	t.Parallel()
	// The team's seats are what its Stripe subscription bills, read through the app's
	// own wiring.
	const seats = 3
	a := newApp(t, testkit.SQLite)
	for _, tc := range []struct {
		tier models.Tier
		want int
	}{
		{models.TierFree, 20},
		{models.TierPro, 60},
		{models.TierPower, 120},
		{models.TierTeam, 200 * seats},
	} {
		t.Run(string(tc.tier), func(t *testing.T) {
			ctx := context.Background()
			token, _, userID := a.register(t, string(tc.tier)+"@example.com")
			_, err := a.db.NewUpdate().Table("users").Set("tier = ?", tc.tier).Where("id = ?", userID).Exec(ctx)
			require.NoError(t, err)
			if tc.tier == models.TierTeam {
				_, err = a.db.NewInsert().Model(&models.BillingSubscription{ID: "sub_team", UserID: userID, CustomerID: "cus_team",
					PriceID: "price_team", PlanTier: models.TierTeam, Status: models.SubscriptionActive, Seats: seats,
					UpdatedAt: time.Now()}).Exec(ctx)
				require.NoError(t, err)
			}
			require.Equal(t, tc.want, a.admitted(t, token, tc.want+5))
		})
	}
}

func TestRateLimitTierChangesReachTheBudgetWithinSeconds(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	token, _, userID := a.register(t, "upgrade@example.com")
	a.spend(t, token, 20)
	requireRefused(t, a.send(t, token, `{ __typename }`), 3)

	_, err := a.db.NewUpdate().Table("users").Set("tier = ?", models.TierPro).Where("id = ?", userID).Exec(context.Background())
	require.NoError(t, err)
	requireRefused(t, a.send(t, token, `{ __typename }`), 3) // the cached tier is still free
	a.clock.Advance(5 * time.Second)
	// The key keeps one time, now read under pro's limit: 55 s of backlog leave 5 s of
	// pro's 60 s burst, at 1 s a request.
	require.Equal(t, 5, a.admitted(t, token, 10))
	requireRefused(t, a.send(t, token, `{ __typename }`), 1)
}

func TestRateLimitSharedByHTTPAndWebSocket(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	token, _, _ := a.register(t, "both@example.com")
	ts := serve(t, a)

	post := func() answer {
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(`{"query":"{ me { email } }"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var body json.RawMessage
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return readAnswer(t, resp.StatusCode, resp.Header, body)
	}
	for range 12 {
		r := post()
		require.Equal(t, http.StatusOK, r.status, "%+v", r.errors)
	}

	ws := dialGraphQLWS(t, ts.URL, token)
	// A subscription is charged once, when it starts.
	ws.subscribe(t, "events", `subscription { accountEvents { type } }`)
	for i := range 7 {
		ws.subscribe(t, fmt.Sprint("q", i), `{ me { email } }`)
		require.Contains(t, string(ws.result(t, fmt.Sprint("q", i))), "both@example.com")
	}
	// Twelve over HTTP, one subscription and seven queries over the socket: the
	// twenty-first operation is refused whichever way it comes.
	ws.subscribe(t, "refused", `{ me { email } }`)
	payload := ws.result(t, "refused")
	var refused struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(payload, &refused))
	require.JSONEq(t, "null", string(refused.Data), "the operation did not run")
	require.Len(t, refused.Errors, 1)
	require.Equal(t, models.CodeRateLimited, refused.Errors[0].Extensions["code"])
	require.EqualValues(t, 3, refused.Errors[0].Extensions["retryAfter"])
	requireRefused(t, post(), 3)
	ws.stop(t, "events")
}

func TestRateLimitAnonymousPerAddress(t *testing.T) {
	t.Parallel()
	behindProxy := newApp(t, testkit.SQLite, func(c *config.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")} // the in-process client's peer
	})
	require.Equal(t, 20, behindProxy.admitted(t, "", 25, "198.51.100.1"), "anonymous: the free tier's budget")
	requireRefused(t, behindProxy.send(t, "", `{ __typename }`, "198.51.100.1"), 3)
	require.Equal(t, 20, behindProxy.admitted(t, "", 20, "198.51.100.2"), "another address, another budget")
	require.Equal(t, 20, behindProxy.admitted(t, "", 20, "203.0.113.50, 198.51.100.3"),
		"the right-most untrusted address is the client; what the client wrote left of it is not")
	requireRefused(t, behindProxy.send(t, "", `{ __typename }`, "198.51.100.9, 198.51.100.3"), 3)
	require.Equal(t, 20, behindProxy.admitted(t, "", 20, "2001:db8:1:2::1"))
	requireRefused(t, behindProxy.send(t, "", `{ __typename }`, "2001:db8:1:2:ffff::1"), 3) // same /64

	// Signing in moves a client to its own budget; the address's stays spent.
	token, _, _ := behindProxy.register(t, "anon@example.com")
	require.Equal(t, 20, behindProxy.admitted(t, token, 20, "198.51.100.1"))

	// Without trusted proxies the header is the client's word and changes nothing.
	direct := newApp(t, testkit.SQLite)
	for i := range 20 {
		r := direct.send(t, "", `{ __typename }`, fmt.Sprintf("198.51.100.%d", i))
		require.Empty(t, r.errors, "request %d", i+1)
	}
	requireRefused(t, direct.send(t, "", `{ __typename }`, "198.51.100.200"), 3)
}

func TestRateLimitsOff(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	token, _, _ := a.register(t, "unlimited@example.com")
	a.spend(t, token, 50)
	require.Equal(t, 50, a.admitted(t, "", 50))
}

// limiterFuncs is a Limiter made of functions, for the cases a real one cannot show.
type limiterFuncs struct {
	allowN func(ctx context.Context, key string, limit ratelimit.Limit, n int) (ratelimit.Decision, error)
}

func (l limiterFuncs) Allow(ctx context.Context, key string, limit ratelimit.Limit) (ratelimit.Decision, error) {
	return l.allowN(ctx, key, limit, 1)
}

func (l limiterFuncs) AllowN(ctx context.Context, key string, limit ratelimit.Limit, n int) (ratelimit.Decision, error) {
	return l.allowN(ctx, key, limit, n)
}

func TestRateLimitFailsOpen(t *testing.T) {
	t.Parallel()
	var asked atomic.Int64
	logs := &testkit.SyncBuffer{}
	a := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite), wiring{
		logger: slog.New(slog.NewJSONHandler(logs, nil)),
		services: func(svc *inkgraph.Services, _ *bun.DB) {
			svc.Limiter = limiterFuncs{allowN: func(context.Context, string, ratelimit.Limit, int) (ratelimit.Decision, error) {
				asked.Add(1)
				return ratelimit.Decision{}, errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
			}}
		},
	})
	token, _, _ := a.register(t, "open@example.com")
	a.spend(t, token, 30)
	data, errs := a.do(t, token, `{ me { email } }`, nil)
	require.Empty(t, errs)
	require.Equal(t, "open@example.com", data["me"].(map[string]any)["email"])
	require.EqualValues(t, 32, asked.Load(), "every operation asked, the registration included")
	require.Contains(t, logs.String(), `"msg":"rate limiter unavailable: operation let through"`)
	require.Contains(t, logs.String(), "connection refused")
	require.Contains(t, logs.String(), `"level":"ERROR"`)
}

// TestRateLimitFailsOpenWithoutRedis: the real wiring over a Redis that is not there
// (nothing listens on port 1) lets operations and sign-ins through.
func TestRateLimitFailsOpenWithoutRedis(t *testing.T) {
	t.Parallel()
	logs := &testkit.SyncBuffer{}
	a := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite), wiring{logger: slog.New(slog.NewJSONHandler(logs, nil))},
		func(c *config.Config) { c.RedisURL = "redis://127.0.0.1:1/0" })
	// Other tests may add to the process-wide counters too, never take from them.
	opsBefore, loginBefore := limiterErrors(t, "operations"), limiterErrors(t, "login")
	token, _, _ := a.register(t, "noredis@example.com")
	a.spend(t, token, 25)
	require.Contains(t, logs.String(), "rate limiter unavailable: operation let through")
	require.Contains(t, logs.String(), "sign-in limiter unavailable: attempt let through")
	require.GreaterOrEqual(t, limiterErrors(t, "operations")-opsBefore, 25.0, "each operation let through is counted")
	require.GreaterOrEqual(t, limiterErrors(t, "login")-loginBefore, 1.0, "the registration's attempt let through is counted")
}

// limiterErrors reads inkgraph_rate_limiter_errors_total for budget.
func limiterErrors(t *testing.T, budget string) float64 {
	t.Helper()
	v, err := metrics.Read("inkgraph_rate_limiter_errors_total", "budget", budget)
	require.NoError(t, err)
	return v
}

// TestRateLimitSharedThroughRedis: two server instances on one database and one Redis
// draw on one budget per user, whichever instance an operation reaches.
func TestRateLimitSharedThroughRedis(t *testing.T) {
	t.Parallel()
	withRedis := withTestRedis(t)
	url := testkit.DatabaseURL(t, testkit.Postgres)
	instances := []*app{startApp(t, url, withRedis), startApp(t, url, withRedis)}
	token, _, _ := instances[0].register(t, "shared@example.com")

	// Redis keeps real time: a request comes back every 3 s of it, so whatever the run
	// took beyond the burst may have refilled some.
	start := time.Now()
	var admitted [2]int
	var lastRefused [2]answer
	for i := range 40 {
		r := instances[i%2].send(t, token, `{ me { email } }`)
		if r.limited() {
			lastRefused[i%2] = r
			continue
		}
		require.Empty(t, r.errors)
		admitted[i%2]++
	}
	refills := int(time.Since(start) / (3 * time.Second))
	total := admitted[0] + admitted[1]
	require.GreaterOrEqual(t, total, 20, "admitted %v", admitted)
	require.LessOrEqual(t, total, 20+refills, "admitted %v: one budget, not one per instance", admitted)
	for i := range instances {
		require.Positive(t, admitted[i], "instance %d served some", i)
		require.Equal(t, http.StatusTooManyRequests, lastRefused[i].status, "instance %d refused once the budget was spent", i)
		require.NotEmpty(t, lastRefused[i].retryAfter)
	}
}

// wsClient speaks graphql-transport-ws to the server.
type wsClient struct {
	conn *websocket.Conn
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialGraphQLWS opens a socket and authenticates it in connection_init.
func dialGraphQLWS(t testing.TB, serverURL, token string) *wsClient {
	t.Helper()
	return dialGraphQLWSWith(t, serverURL, map[string]string{"authorization": "Bearer " + token})
}

// dialGraphQLWSWith is dialGraphQLWS with payload as connection_init's.
func dialGraphQLWSWith(t testing.TB, serverURL string, payload map[string]string) *wsClient {
	t.Helper()
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	conn, _, err := dialer.Dial("ws"+strings.TrimPrefix(serverURL, "http")+"/graphql", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	c := &wsClient{conn: conn}
	init, err := json.Marshal(payload)
	require.NoError(t, err)
	c.write(t, wsMessage{Type: "connection_init", Payload: init})
	require.Equal(t, "connection_ack", c.next(t).Type)
	return c
}

func (c *wsClient) write(t testing.TB, m wsMessage) {
	t.Helper()
	require.NoError(t, c.conn.SetWriteDeadline(time.Now().Add(10*time.Second)))
	require.NoError(t, c.conn.WriteJSON(m))
}

// next reads the next message other than a keep-alive ping.
func (c *wsClient) next(t testing.TB) wsMessage {
	t.Helper()
	for {
		require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(10*time.Second)))
		var m wsMessage
		require.NoError(t, c.conn.ReadJSON(&m))
		if m.Type != "ping" && m.Type != "pong" {
			return m
		}
	}
}

func (c *wsClient) subscribe(t testing.TB, id, query string) {
	t.Helper()
	payload, err := json.Marshal(map[string]string{"query": query})
	require.NoError(t, err)
	c.write(t, wsMessage{ID: id, Type: "subscribe", Payload: payload})
}

// result reads operation id's one result and its complete.
func (c *wsClient) result(t testing.TB, id string) json.RawMessage {
	t.Helper()
	m := c.next(t)
	require.Equal(t, id, m.ID)
	require.Equal(t, "next", m.Type, "%s", m.Payload)
	done := c.next(t)
	require.Equal(t, wsMessage{ID: id, Type: "complete"}, done)
	return m.Payload
}

// stop ends operation id from the client's side.
func (c *wsClient) stop(t testing.TB, id string) {
	t.Helper()
	c.write(t, wsMessage{ID: id, Type: "complete"})
}

// TestRateLimitSchemaFetches: in development a developer's tools (GraphiQL, code
// generators) fetch the schema anonymously far more than 20 times a minute; those
// fetches draw on a budget of their own, and anonymous mutations stay on the free one.
func TestRateLimitSchemaFetches(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	schemaFetch := func() answer {
		return a.send(t, "", introspection.Query)
	}
	for i := range 60 {
		r := schemaFetch()
		require.Equal(t, http.StatusOK, r.status, "schema fetch %d: %+v", i+1, r.errors)
		require.Empty(t, r.errors)
	}

	logout := `mutation { logout(refreshToken: "igr_unknown") { sessionId } }`
	admitted := 0
	for range 25 {
		if !a.send(t, "", logout).limited() {
			admitted++
		}
	}
	require.Equal(t, 20, admitted, "anonymous mutations keep the free budget, untouched by the schema fetches")
	requireRefused(t, a.send(t, "", `{ __typename __schema { queryType { name } } plans { tier } }`), 3)

	for range 60 {
		require.False(t, schemaFetch().limited(), "the schema budget is not the free one")
	}
	refused := schemaFetch()
	requireRefused(t, refused, 1) // 120 a minute: one back every half second, rounded up
	require.Contains(t, refused.errors[0].Message, "120 requests per minute")
}
