package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// limitsExtensions are a response's extensions.cost and extensions.rateLimit.
type limitsExtensions struct {
	Cost *struct {
		Complexity int `json:"complexity"`
		Limit      int `json:"limit"`
	} `json:"cost"`
	RateLimit *struct {
		Limit     int       `json:"limit"`
		Cost      int       `json:"cost"`
		Remaining int       `json:"remaining"`
		ResetAt   time.Time `json:"resetAt"`
	} `json:"rateLimit"`
}

// limitsResponse is a response with its limits.
type limitsResponse struct {
	Data       json.RawMessage  `json:"data"`
	Errors     []gqlError       `json:"errors"`
	Extensions limitsExtensions `json:"extensions"`
}

// postLimits posts query in-process and reads its response with its extensions.
func (a *app) postLimits(t *testing.T, token, query string) limitsResponse {
	t.Helper()
	return a.postLimitsIn(t, token, "", query)
}

// postLimitsIn is postLimits naming team in X-Inkgraph-Team ("" for none).
func (a *app) postLimitsIn(t *testing.T, token, team, query string) limitsResponse {
	t.Helper()
	b, err := json.Marshal(map[string]string{"query": query})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if team != "" {
		req.Header.Set("X-Inkgraph-Team", team)
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	var r limitsResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &r), rec.Body.String())
	return r
}

// requireLimitsOverHTTP checks the limits of a free user's responses over HTTP, with
// whichever limiter a runs: the cost and the budget of each, what is left going down
// by each operation's cost, and the refusal's, which says nothing is left.
func requireLimitsOverHTTP(t *testing.T, a *app) {
	t.Helper()
	token, _, _ := a.register(t, "limits@example.com")
	now := a.clock.Now() // the server's, which stands still
	r := a.postLimits(t, token, `{ me { email } }`)
	require.Empty(t, r.Errors)
	require.NotNil(t, r.Extensions.Cost)
	require.Positive(t, r.Extensions.Cost.Complexity)
	require.Equal(t, a.cfg.MaxQueryComplexity, r.Extensions.Cost.Limit)
	rl := r.Extensions.RateLimit
	require.NotNil(t, rl)
	free := models.FeaturesOf(models.TierFree).RequestsPerMinute
	require.Equal(t, free, rl.Limit)
	require.Equal(t, 1, rl.Cost)
	require.Less(t, rl.Remaining, free)
	// Something was spent, and at most the period's budget: the reset is after now,
	// within a minute (rounded up to the second).
	require.True(t, rl.ResetAt.After(now), "resetAt %s", rl.ResetAt)
	require.False(t, rl.ResetAt.After(now.Add(time.Minute+time.Second)), "within the period: %s", rl.ResetAt)
	require.Equal(t, rl.ResetAt, rl.ResetAt.Truncate(time.Second), "whole seconds")

	// Two logouts in one mutation cost two.
	m := a.postLimits(t, token, `mutation { a: logout(refreshToken: "x") { sessionId } b: logout(refreshToken: "y") { sessionId } }`)
	require.Equal(t, 2, m.Extensions.RateLimit.Cost)
	require.LessOrEqual(t, m.Extensions.RateLimit.Remaining, rl.Remaining-2)

	// Spend the rest: the refusal tells the same budget, none of it left.
	var refused limitsResponse
	for range free {
		refused = a.postLimits(t, token, `{ me { email } }`)
		if len(refused.Errors) > 0 {
			break
		}
	}
	require.Len(t, refused.Errors, 1)
	require.Equal(t, models.CodeRateLimited, refused.Errors[0].Extensions["code"])
	require.NotNil(t, refused.Extensions.RateLimit)
	require.Equal(t, 0, refused.Extensions.RateLimit.Remaining)
	require.Equal(t, free, refused.Extensions.RateLimit.Limit)
	require.NotNil(t, refused.Extensions.Cost)
}

func TestLimitsExtensionsOverHTTP(t *testing.T) {
	t.Parallel()
	requireLimitsOverHTTP(t, newApp(t, testkit.SQLite))
}

// withTestRedis has the limiter in the local Redis, or skips the test without one.
// An instance's Redis keys are prefixed by its (per-test) database's.
func withTestRedis(t *testing.T) func(*config.Config) {
	t.Helper()
	const redisURL = "redis://127.0.0.1:6379/0"
	opts, err := redis.ParseURL(redisURL)
	require.NoError(t, err)
	ping := redis.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	err = ping.Ping(pingCtx).Err()
	cancel()
	_ = ping.Close()
	if err != nil {
		testkit.Unavailable(t, "Redis", err)
	}
	return func(c *config.Config) { c.RedisURL = redisURL }
}

func TestLimitsExtensionsOverHTTPWithRedis(t *testing.T) {
	t.Parallel()
	requireLimitsOverHTTP(t, newApp(t, testkit.SQLite, withTestRedis(t)))
}

func TestLimitsExtensionsWithoutRateLimits(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	token, _, _ := a.register(t, "nolimits@example.com")
	r := a.postLimits(t, token, `{ me { email } }`)
	require.Empty(t, r.Errors)
	require.NotNil(t, r.Extensions.Cost, "the cost is told all the same")
	require.Nil(t, r.Extensions.RateLimit)
}

// chatPayload is one payload of a chat subscription.
type chatPayload struct {
	Data struct {
		Chat chatEvent `json:"chat"`
	} `json:"data"`
	Extensions limitsExtensions `json:"extensions"`
}

// requireLimitsOnTheFirstPayload checks a chat's payloads: the first carries the
// limits, the later ones do not, and the run ends with DONE.
func requireLimitsOnTheFirstPayload(t *testing.T, payloads []chatPayload) {
	t.Helper()
	require.Greater(t, len(payloads), 2)
	first := payloads[0].Extensions
	require.NotNil(t, first.Cost)
	require.Positive(t, first.Cost.Complexity)
	require.NotNil(t, first.RateLimit)
	require.Equal(t, 1, first.RateLimit.Cost, "a subscription costs one, when it starts")
	for _, p := range payloads[1:] {
		require.Nil(t, p.Extensions.Cost)
		require.Nil(t, p.Extensions.RateLimit)
	}
	require.Equal(t, "DONE", payloads[len(payloads)-1].Data.Chat.Type)
}

func TestLimitsExtensionsOverWebSocketAndSSE(t *testing.T) {
	t.Parallel()
	t.Run("in-process", func(t *testing.T) {
		t.Parallel()
		requireLimitsOverStreams(t)
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		requireLimitsOverStreams(t, withTestRedis(t))
	})
}

// requireLimitsOverStreams runs a chat over WebSocket, then over SSE, and checks the
// limits each carries.
func requireLimitsOverStreams(t *testing.T, tune ...func(*config.Config)) {
	t.Helper()
	llmSrv := newChatLLM(t)
	a := newApp(t, testkit.SQLite, append(tune, withLLM(llmSrv.URL()))...)
	token, _, _ := a.register(t, "limits-streams@example.com")
	ts := serve(t, a)
	query := `subscription { chat(input: {message: "list my open tasks"}) { ` + chatEventFields + ` } }`

	ws := dialGraphQLWS(t, ts.URL, token)
	ws.subscribe(t, "chat", query)
	var overWS []chatPayload
	for {
		m := ws.next(t)
		require.Equal(t, "chat", m.ID)
		if m.Type == "complete" {
			break
		}
		require.Equal(t, "next", m.Type, "%s", m.Payload)
		var p chatPayload
		require.NoError(t, json.Unmarshal(m.Payload, &p), string(m.Payload))
		overWS = append(overWS, p)
	}
	requireLimitsOnTheFirstPayload(t, overWS)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var overSSE []chatPayload
	for ev := range subscribeSSE(t, ctx, ts.URL, token, query) {
		if ev.name == "complete" {
			break
		}
		require.Equal(t, "next", ev.name)
		var p chatPayload
		require.NoError(t, json.Unmarshal([]byte(ev.data), &p), ev.data)
		overSSE = append(overSSE, p)
	}
	requireLimitsOnTheFirstPayload(t, overSSE)
	require.Less(t, overSSE[0].Extensions.RateLimit.Remaining, overWS[0].Extensions.RateLimit.Remaining,
		"one budget over both")
}

// withoutExtensions is payload (a response as JSON) without its extensions, for tests
// comparing what an operation answered.
func withoutExtensions(t testing.TB, payload []byte) string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(payload, &m), string(payload))
	delete(m, "extensions")
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}
