package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// apqAnswer is one persisted-query exchange as Apollo's link reads it.
type apqAnswer struct {
	status      int
	contentType string
	data        map[string]any
	errors      []gqlError
}

// apqRequest sends a persisted-query request over HTTP (graphqlRequestAccepting):
// POST with a JSON body, or GET with the parameters in the URL (extensions URL-encoded
// JSON, as Apollo's link sends it with useGETForHashedQueries). An empty query is left
// out of the request.
func apqRequest(t *testing.T, serverURL string, get bool, accept, query, hash string) apqAnswer {
	t.Helper()
	params := map[string]any{"extensions": persistedQuery(hash)}
	if query != "" {
		params["query"] = query
	}
	return graphqlRequestAccepting(t, serverURL, get, accept, params)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestPersistedQueriesOverHTTP follows Apollo's automatic persisted queries over POST
// and GET, for both response media types: an unknown hash alone answers
// PersistedQueryNotFound (so the client falls back), the hash with its query runs and
// stores it, and the hash alone then runs it.
func TestPersistedQueriesOverHTTP(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite, withoutRateLimits))
	for _, tc := range []struct {
		name, accept, contentType string
		notFoundStatus            int
		get                       bool
	}{
		// application/json keeps 200 for request errors (legacy clients read the body);
		// application/graphql-response+json answers a request error without data with
		// 400, as the GraphQL-over-HTTP spec says. Apollo's link reads the errors of both.
		{"POST json", "application/json", "application/json", http.StatusOK, false},
		{"GET json", "application/json", "application/json", http.StatusOK, true},
		{"POST graphql-response", "application/graphql-response+json", "application/graphql-response+json", http.StatusBadRequest, false},
		{"GET graphql-response", "application/graphql-response+json, application/json;q=0.9", "application/graphql-response+json", http.StatusBadRequest, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A document of its own per case, so no case finds another's stored query.
			query := `query APQ { plans { tier } } # ` + tc.name
			hash := sha256Hex(query)

			got := apqRequest(t, ts.URL, tc.get, tc.accept, "", hash)
			require.Equal(t, tc.notFoundStatus, got.status)
			require.Contains(t, got.contentType, tc.contentType)
			require.Nil(t, got.data)
			require.Len(t, got.errors, 1)
			require.Equal(t, "PersistedQueryNotFound", got.errors[0].Message)
			require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", got.errors[0].Extensions["code"])

			got = apqRequest(t, ts.URL, tc.get, tc.accept, query, hash)
			require.Equal(t, http.StatusOK, got.status, "%+v", got.errors)
			require.Empty(t, got.errors)
			require.Len(t, got.data["plans"], 4)

			for range 2 {
				got = apqRequest(t, ts.URL, tc.get, tc.accept, "", hash)
				require.Equal(t, http.StatusOK, got.status, "%+v", got.errors)
				require.Empty(t, got.errors, "the hash alone runs the stored query")
				require.Len(t, got.data["plans"], 4)
			}
		})
	}
}

// TestPersistedQueriesRefuseBadRequests: a hash that is not the query's is refused and
// stores nothing; a query stored over POST is found by GET; GET still runs queries
// only, even stored ones; a request with neither query nor persistedQuery is the
// missing-query error it always was.
func TestPersistedQueriesRefuseBadRequests(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite, withoutRateLimits))

	query := `query Mismatch { plans { tier } }`
	wrong := sha256Hex("something else")
	for _, get := range []bool{false, true} {
		got := apqRequest(t, ts.URL, get, "application/json", query, wrong)
		require.Equal(t, http.StatusOK, got.status)
		require.Nil(t, got.data)
		require.Len(t, got.errors, 1)
		require.Equal(t, "provided APQ hash does not match query", got.errors[0].Message)
		require.Equal(t, "PERSISTED_QUERY_HASH_MISMATCH", got.errors[0].Extensions["code"])
		require.Equal(t, "extensions.persistedQuery", got.errors[0].Extensions["field"])
	}
	got := apqRequest(t, ts.URL, false, "application/json", "", wrong)
	require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", got.errors[0].Extensions["code"], "a refused pair stores nothing")

	// Stored over POST, found by GET (and the other way round needs nothing more).
	stored := `query Stored { plans { tier } }`
	got = apqRequest(t, ts.URL, false, "application/json", stored, sha256Hex(stored))
	require.Empty(t, got.errors)
	got = apqRequest(t, ts.URL, true, "application/json", "", sha256Hex(stored))
	require.Empty(t, got.errors)
	require.Len(t, got.data["plans"], 4)

	// A stored mutation runs over POST but never over GET.
	mutation := `mutation Out { logout(refreshToken: "x") { sessionId } }`
	apqRequest(t, ts.URL, false, "application/json", mutation, sha256Hex(mutation))
	got = apqRequest(t, ts.URL, true, "application/json", "", sha256Hex(mutation))
	require.Equal(t, http.StatusMethodNotAllowed, got.status)

	// An unsupported version and a malformed extension are refused with errors.
	for _, ext := range []string{
		`{"persistedQuery":{"version":2,"sha256Hash":"` + wrong + `"}}`,
		`{"persistedQuery":"yes"}`,
	} {
		resp, err := http.Post(ts.URL+"/graphql", "application/json",
			bytes.NewReader([]byte(`{"extensions":`+ext+`}`)))
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var out struct {
			Data   any        `json:"data"`
			Errors []gqlError `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
		require.Nil(t, out.Data)
		require.Len(t, out.Errors, 1)
		require.Equal(t, "PERSISTED_QUERY_INVALID", out.Errors[0].Extensions["code"], "%s", raw)
		require.Equal(t, "extensions.persistedQuery", out.Errors[0].Extensions["field"])
	}

	// Without a persistedQuery, a missing query is still a malformed request.
	for _, body := range []string{`{}`, `{"extensions":{}}`, `{"extensions":{"persistedQuery":null}}`} {
		resp, err := http.Post(ts.URL+"/graphql", "application/json", bytes.NewReader([]byte(body)))
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
		require.Contains(t, string(raw), "the query parameter is missing")
	}
	resp, err := http.Get(ts.URL + "/graphql?extensions=" + url.QueryEscape(`{}`))
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, string(raw), "the query parameter is missing")
}

// redisForTest is a client of the local Redis, or skips (fails under REQUIRE_SERVICES=1).
func redisForTest(t *testing.T) *redis.Client {
	t.Helper()
	const redisURL = "redis://127.0.0.1:6379/0"
	opts, err := redis.ParseURL(redisURL)
	require.NoError(t, err)
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		testkit.Unavailable(t, "Redis", err)
	}
	return client
}

// TestPersistedQueriesSharedThroughRedis: two instances behind one load balancer share
// Redis; a query registered through one is found by its hash alone through the other,
// which never saw it, and is kept for INKGRAPH_APQ_TTL.
func TestPersistedQueriesSharedThroughRedis(t *testing.T) {
	t.Parallel()
	client := redisForTest(t)
	url := testkit.DatabaseURL(t, testkit.Postgres)
	withRedis := func(c *config.Config) {
		c.RedisURL = "redis://127.0.0.1:6379/0"
		c.RateLimits = false
		c.APQTTL = 90 * time.Minute
	}
	first, second := serve(t, startApp(t, url, withRedis)), serve(t, startApp(t, url, withRedis))
	// A third instance elsewhere (another database, so another key prefix, as another
	// test's) does not see it.
	elsewhere := serve(t, newApp(t, testkit.SQLite, withRedis))

	query := `query Shared { plans { tier } } # ` + testkit.RandomHex(8)
	hash := sha256Hex(query)
	for _, ts := range []*httptest.Server{first, second} {
		got := apqRequest(t, ts.URL, false, "application/json", "", hash)
		require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", got.errors[0].Extensions["code"])
	}
	got := apqRequest(t, first.URL, false, "application/json", query, hash)
	require.Empty(t, got.errors)

	for _, get := range []bool{false, true} {
		got = apqRequest(t, second.URL, get, "application/json", "", hash)
		require.Empty(t, got.errors, "registered on the first instance, found on the second")
		require.Len(t, got.data["plans"], 4)
	}
	got = apqRequest(t, elsewhere.URL, false, "application/json", "", hash)
	require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", got.errors[0].Extensions["code"], "another prefix is another store")

	keys, err := client.Keys(context.Background(), "test:inkgraph:*:apq:"+hash).Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	ttl, err := client.TTL(context.Background(), keys[0]).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 89*time.Minute)
	require.LessOrEqual(t, ttl, 90*time.Minute)
	stored, err := client.Get(context.Background(), keys[0]).Result()
	require.NoError(t, err)
	require.Equal(t, query, stored)

	// A value under the hash that is not its document (not written by a server) is
	// never run: the instance that has not cached it answers not found.
	forged := `query Forged { plans { tier } } # ` + testkit.RandomHex(8)
	require.NoError(t, client.Set(context.Background(), strings.TrimSuffix(keys[0], hash)+sha256Hex(forged), query, time.Minute).Err())
	got = apqRequest(t, second.URL, false, "application/json", "", sha256Hex(forged))
	require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", got.errors[0].Extensions["code"])
}

// TestPersistedQueriesWhenRedisIsDown: a Redis that does not answer fails no request.
// A hash alone is not found (logged), so the client sends the query, which runs and
// is kept in the instance's own cache; the hash alone then runs from there.
func TestPersistedQueriesWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	logs := &testkit.SyncBuffer{}
	a := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite), wiring{logger: slog.New(slog.NewTextHandler(logs, nil))},
		func(c *config.Config) {
			c.RedisURL = "redis://127.0.0.1:1/0?max_retries=-1&dial_timeout=200ms"
			c.RateLimits = false
		})
	ts := serve(t, a)
	query := `query RedisDown { plans { tier } }`
	hash := sha256Hex(query)

	got := apqRequest(t, ts.URL, false, "application/json", "", hash)
	require.Len(t, got.errors, 1)
	require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", got.errors[0].Extensions["code"])
	require.Contains(t, logs.String(), "look a persisted query up in the shared store")

	got = apqRequest(t, ts.URL, false, "application/json", query, hash)
	require.Empty(t, got.errors, "the query runs although it could not be shared")
	require.Len(t, got.data["plans"], 4)
	require.Contains(t, logs.String(), "register a persisted query in the shared store")

	got = apqRequest(t, ts.URL, true, "application/json", "", hash)
	require.Empty(t, got.errors, "the instance's own cache answers")
	require.Len(t, got.data["plans"], 4)
}
