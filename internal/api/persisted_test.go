package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// The documents of the trusted-documents tests' manifests, as the tools print them.
const (
	trustedPlans = "query TrustedPlans {\n  plans {\n    tier\n  }\n}"
	// trustedSocket is the one the socket tests send.
	trustedSocket = "query TrustedSocket {\n  plans {\n    tier\n  }\n}"
)

// manifests are the trusted-documents tests' manifest, in both formats.
func manifests() map[string]string {
	entries := map[string]string{sha256Hex(trustedPlans): trustedPlans, sha256Hex(trustedSocket): trustedSocket}
	preset, _ := json.Marshal(entries)
	type operation struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
		Body string `json:"body"`
	}
	apollo, _ := json.Marshal(map[string]any{
		"format": "apollo-persisted-query-manifest", "version": 1,
		"operations": []operation{
			{sha256Hex(trustedPlans), "TrustedPlans", "query", trustedPlans},
			{sha256Hex(trustedSocket), "TrustedSocket", "query", trustedSocket},
		},
	})
	return map[string]string{"client preset": string(preset), "apollo": string(apollo)}
}

// withManifest serves only the manifest's documents.
func withManifest(t *testing.T, manifest string) func(*config.Config) {
	path := filepath.Join(t.TempDir(), "persisted-documents.json")
	require.NoError(t, os.WriteFile(path, []byte(manifest), 0o600))
	return func(c *config.Config) { c.TrustedDocuments = path }
}

// graphqlRequest sends params as graphql-response+json's client does.
func graphqlRequest(t *testing.T, serverURL string, get bool, params map[string]any) apqAnswer {
	t.Helper()
	return graphqlRequestAccepting(t, serverURL, get, "application/graphql-response+json", params)
}

// graphqlRequestAccepting sends params as a JSON body (POST) or as URL parameters,
// objects URL-encoded JSON (GET), with the Accept given, and decodes the answer.
func graphqlRequestAccepting(t *testing.T, serverURL string, get bool, accept string, params map[string]any) apqAnswer {
	t.Helper()
	var req *http.Request
	var err error
	if get {
		values := url.Values{}
		for k, v := range params {
			if s, ok := v.(string); ok {
				values.Set(k, s)
				continue
			}
			b, merr := json.Marshal(v)
			require.NoError(t, merr)
			values.Set(k, string(b))
		}
		req, err = http.NewRequest(http.MethodGet, serverURL+"/graphql?"+values.Encode(), nil)
	} else {
		b, merr := json.Marshal(params)
		require.NoError(t, merr)
		req, err = http.NewRequest(http.MethodPost, serverURL+"/graphql", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
	}
	require.NoError(t, err)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	return apqAnswer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), data: out.Data, errors: out.Errors}
}

func persistedQuery(hash string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
}

// TestTrustedDocumentsOverHTTP: with a manifest (graphql-codegen client preset's or
// Apollo's), over POST and GET, a document named by Apollo's persistedQuery hash or by
// the client preset's documentId (bare or "sha256:") runs; a hash the manifest does not
// hold is PERSISTED_QUERY_NOT_FOUND; a query's text runs only when it is exactly a
// manifest document, and is PERSISTED_QUERY_NOT_ALLOWED (field "query") otherwise;
// nothing is registered.
func TestTrustedDocumentsOverHTTP(t *testing.T) {
	t.Parallel()
	for format, manifest := range manifests() {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			ts := serve(t, newApp(t, testkit.SQLite, withoutRateLimits, withManifest(t, manifest)))
			hash := sha256Hex(trustedPlans)
			other := `query Other { plans { tier } }`
			for _, get := range []bool{false, true} {
				method := map[bool]string{false: "POST", true: "GET"}[get]
				for name, params := range map[string]map[string]any{
					"persistedQuery":          {"extensions": persistedQuery(hash)},
					"documentId":              {"documentId": hash},
					"documentId sha256:":      {"documentId": "sha256:" + hash},
					"documentId, upper case":  {"documentId": "sha256:" + strings.ToUpper(hash)},
					"documentId and the same": {"documentId": hash, "extensions": persistedQuery(hash)},
					"the manifest's text":     {"query": trustedPlans},
					"text and its hash":       {"query": trustedPlans, "extensions": persistedQuery(hash)},
				} {
					got := graphqlRequest(t, ts.URL, get, params)
					require.Equal(t, http.StatusOK, got.status, "%s %s: %+v", method, name, got.errors)
					require.Empty(t, got.errors, "%s %s", method, name)
					require.Len(t, got.data["plans"], 4, "%s %s", method, name)
				}

				for name, params := range map[string]map[string]any{
					"persistedQuery": {"extensions": persistedQuery(sha256Hex(other))},
					"documentId":     {"documentId": "sha256:" + sha256Hex(other)},
					"an opaque id":   {"documentId": "not-in-the-manifest"},
				} {
					got := graphqlRequest(t, ts.URL, get, params)
					require.Equal(t, http.StatusBadRequest, got.status, "%s %s", method, name)
					require.Nil(t, got.data)
					require.Len(t, got.errors, 1)
					require.Equal(t, "PersistedQueryNotFound", got.errors[0].Message, "Apollo's link reads the message")
					require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", got.errors[0].Extensions["code"], "%s %s", method, name)
				}

				for name, params := range map[string]map[string]any{
					"text":                         {"query": other},
					"text, APQ registration":       {"query": other, "extensions": persistedQuery(sha256Hex(other))},
					"the manifest's text, changed": {"query": trustedPlans + " "},
				} {
					got := graphqlRequest(t, ts.URL, get, params)
					require.Equal(t, http.StatusBadRequest, got.status, "%s %s", method, name)
					require.Nil(t, got.data)
					require.Len(t, got.errors, 1)
					require.Equal(t, "PERSISTED_QUERY_NOT_ALLOWED", got.errors[0].Extensions["code"], "%s %s", method, name)
					require.Equal(t, "query", got.errors[0].Extensions["field"])
				}
				// The refused registration registered nothing.
				got := graphqlRequest(t, ts.URL, get, map[string]any{"extensions": persistedQuery(sha256Hex(other))})
				require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", got.errors[0].Extensions["code"])

				// A manifest text sent with another document's hash.
				got = graphqlRequest(t, ts.URL, get, map[string]any{"query": trustedPlans, "extensions": persistedQuery(sha256Hex(trustedSocket))})
				require.Equal(t, "PERSISTED_QUERY_HASH_MISMATCH", got.errors[0].Extensions["code"])
				require.Equal(t, "extensions.persistedQuery", got.errors[0].Extensions["field"])
			}
		})
	}
}

// TestDocumentIDParameter: documentId is a string naming one document; a request
// naming two is refused before it reaches the executor. Without a manifest, a
// documentId is an APQ hash like any other.
func TestDocumentIDParameter(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite, withoutRateLimits))
	for _, get := range []bool{false, true} {
		got := graphqlRequest(t, ts.URL, get, map[string]any{"documentId": ""})
		require.Equal(t, http.StatusBadRequest, got.status)
		require.Equal(t, "BAD_REQUEST", got.errors[0].Extensions["code"])
		require.Contains(t, got.errors[0].Message, "documentId")

		got = graphqlRequest(t, ts.URL, get, map[string]any{
			"documentId": sha256Hex("a"), "extensions": persistedQuery(sha256Hex("b")),
		})
		require.Equal(t, http.StatusBadRequest, got.status)
		require.Contains(t, got.errors[0].Message, "name different documents")

		query := `query ByDocumentID { plans { tier } } # ` + map[bool]string{false: "post", true: "get"}[get]
		got = graphqlRequest(t, ts.URL, get, map[string]any{"documentId": "sha256:" + sha256Hex(query)})
		require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", got.errors[0].Extensions["code"])
		got = graphqlRequest(t, ts.URL, get, map[string]any{"documentId": "sha256:" + sha256Hex(query), "query": query})
		require.Empty(t, got.errors)
		got = graphqlRequest(t, ts.URL, get, map[string]any{"documentId": sha256Hex(query)})
		require.Empty(t, got.errors)
		require.Len(t, got.data["plans"], 4)
	}
	resp, err := http.Post(ts.URL+"/graphql", "application/json", strings.NewReader(`{"documentId":5}`))
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, string(raw), "the documentId parameter must be a string or null")
}

// TestTrustedDocumentsOverWebSocket: a graphql-transport-ws subscribe payload names a
// manifest document by documentId or persistedQuery, or carries its exact text; any
// other text is refused with PERSISTED_QUERY_NOT_ALLOWED, and the socket stays open.
func TestTrustedDocumentsOverWebSocket(t *testing.T) {
	t.Parallel()
	for format, manifest := range manifests() {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			ts := serve(t, newApp(t, testkit.SQLite, withoutRateLimits, withManifest(t, manifest)))
			c := dialWithPayload(t, ts.URL, map[string]any{})
			require.Equal(t, "connection_ack", c.next(t).Type)
			hash := sha256Hex(trustedSocket)
			for i, payload := range []map[string]any{
				{"documentId": hash},
				{"documentId": "sha256:" + hash, "operationName": "TrustedSocket"},
				{"extensions": persistedQuery(hash)},
				{"query": trustedSocket},
			} {
				id := string(rune('a' + i))
				raw, err := json.Marshal(payload)
				require.NoError(t, err)
				c.write(t, wsMessage{ID: id, Type: "subscribe", Payload: raw})
				var got struct {
					Data   map[string]any `json:"data"`
					Errors []gqlError     `json:"errors"`
				}
				require.NoError(t, json.Unmarshal(c.result(t, id), &got))
				require.Empty(t, got.Errors, "%v", payload)
				require.Len(t, got.Data["plans"], 4, "%v", payload)
			}

			for i, tc := range []struct {
				payload map[string]any
				code    string
			}{
				{map[string]any{"query": `query Other { plans { tier } }`}, "PERSISTED_QUERY_NOT_ALLOWED"},
				{map[string]any{"documentId": sha256Hex("elsewhere")}, "PERSISTED_QUERY_NOT_FOUND"},
			} {
				id := "refused" + string(rune('a'+i))
				raw, err := json.Marshal(tc.payload)
				require.NoError(t, err)
				c.write(t, wsMessage{ID: id, Type: "subscribe", Payload: raw})
				var got struct {
					Data   map[string]any `json:"data"`
					Errors []gqlError     `json:"errors"`
				}
				require.NoError(t, json.Unmarshal(c.result(t, id), &got))
				require.Nil(t, got.Data)
				require.Len(t, got.Errors, 1)
				require.Equal(t, tc.code, got.Errors[0].Extensions["code"])
			}
			// Still open: the manifest's document runs.
			raw, err := json.Marshal(map[string]any{"documentId": hash})
			require.NoError(t, err)
			c.write(t, wsMessage{ID: "again", Type: "subscribe", Payload: raw})
			require.Contains(t, string(c.result(t, "again")), `"plans"`)
		})
	}
}

// TestTrustedDocumentsMetrics: a refused document counts as the "invalid" operation
// with its code, as any document that never ran; an accepted one as any other.
func TestTrustedDocumentsMetrics(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite, withoutRateLimits, withManifest(t, manifests()["apollo"])))
	refused := map[string]string{"operation": "invalid", "code": "PERSISTED_QUERY_NOT_ALLOWED"}
	notFound := map[string]string{"operation": "invalid", "code": "PERSISTED_QUERY_NOT_FOUND"}
	// Anonymous: its name is not admitted as a label (see operationNames).
	ran := map[string]string{"operation": "other", "type": "query", "code": "OK"}
	before := scrape(t)
	graphqlRequest(t, ts.URL, false, map[string]any{"query": `query NotTrusted { plans { tier } }`})
	graphqlRequest(t, ts.URL, false, map[string]any{"documentId": sha256Hex("elsewhere")})
	got := graphqlRequest(t, ts.URL, false, map[string]any{"documentId": sha256Hex(trustedPlans)})
	require.Empty(t, got.errors)
	after := scrape(t)
	require.GreaterOrEqual(t, counter(after, "inkgraph_graphql_operations_total", refused)-counter(before, "inkgraph_graphql_operations_total", refused), 1.0)
	require.GreaterOrEqual(t, counter(after, "inkgraph_graphql_operations_total", notFound)-counter(before, "inkgraph_graphql_operations_total", notFound), 1.0)
	require.GreaterOrEqual(t, counter(after, "inkgraph_graphql_operations_total", ran)-counter(before, "inkgraph_graphql_operations_total", ran), 1.0)
	require.Nil(t, sample(after, "inkgraph_graphql_operations_total", map[string]string{"operation": "NotTrusted"}),
		"a refused document's name is not a label")
}

// TestTrustedDocumentsOverSSE: graphql-sse's requests name a manifest document by
// documentId too (POST body or GET parameter, distinct-connections mode); an unknown
// one is PERSISTED_QUERY_NOT_FOUND.
func TestTrustedDocumentsOverSSE(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite, withoutRateLimits, withManifest(t, manifests()["client preset"])))
	stream := func(t *testing.T, get bool, documentID string) string {
		t.Helper()
		var req *http.Request
		var err error
		if get {
			req, err = http.NewRequest(http.MethodGet, ts.URL+"/graphql?documentId="+url.QueryEscape(documentID), nil)
		} else {
			b, _ := json.Marshal(map[string]any{"documentId": documentID})
			req, err = http.NewRequest(http.MethodPost, ts.URL+"/graphql", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
		}
		require.NoError(t, err)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(raw)
	}
	for _, get := range []bool{false, true} {
		body := stream(t, get, "sha256:"+sha256Hex(trustedPlans))
		require.Contains(t, body, "event: next")
		require.Contains(t, body, `"tier":"FREE"`, "the manifest's document ran")
		require.Contains(t, body, "event: complete")
		body = stream(t, get, sha256Hex(`query Other { plans { tier } }`))
		require.Contains(t, body, "PERSISTED_QUERY_NOT_FOUND")
		require.NotContains(t, body, `"tier"`)
	}
}

// TestAPQRegistersOnlyValidSmallDocuments: APQ keeps a query only once it has passed
// validation (a document that fails is not stored, so its hash stays unknown), and
// never one over 32 KiB (it runs, unkept): nobody fills the caches, or Redis, with
// junk or padded documents.
func TestAPQRegistersOnlyValidSmallDocuments(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite, withoutRateLimits))
	for name, query := range map[string]string{
		"invalid": `query Junk { noSuchField }`,
		"padded":  "query Padded { plans { tier } } #" + strings.Repeat("x", 33<<10),
	} {
		hash := sha256Hex(query)
		got := graphqlRequest(t, ts.URL, false, map[string]any{"query": query, "extensions": persistedQuery(hash)})
		if name == "padded" {
			require.Empty(t, got.errors, "a large valid document still runs")
			require.Len(t, got.data["plans"], 4)
		} else {
			require.NotEmpty(t, got.errors)
		}
		got = graphqlRequest(t, ts.URL, false, map[string]any{"extensions": persistedQuery(hash)})
		require.Len(t, got.errors, 1, name)
		require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", got.errors[0].Extensions["code"], "%s: not registered", name)
	}
	small := `query Small { plans { tier } }`
	graphqlRequest(t, ts.URL, false, map[string]any{"query": small, "extensions": persistedQuery(sha256Hex(small))})
	got := graphqlRequest(t, ts.URL, false, map[string]any{"extensions": persistedQuery(sha256Hex(small))})
	require.Empty(t, got.errors, "a valid small document is registered")
}
