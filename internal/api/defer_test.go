package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/conformance"
)

// deferredSummary asks for the summary with its slow parts (the website analysis,
// persona readiness and personalisation, computed from the one-per-user rows) in a
// later payload.
const deferredSummary = `query DeferredSummary($later: Boolean! = true) {
	onboarding {
		progress { currentStep }
		... @defer(label: "slow", if: $later) {
			websiteAnalysis { url title }
			personaReadiness { ready missing }
			personalization { businessName language }
		}
	}
}`

// plainSummary is deferredSummary without @defer.
const plainSummary = `query DeferredSummary {
	onboarding {
		progress { currentStep }
		websiteAnalysis { url title }
		personaReadiness { ready missing }
		personalization { businessName language }
	}
}`

// apolloAccept is the Accept header Apollo Client 4 sends with an operation that uses
// @defer (Defer20220824Handler puts multipart/mixed before HttpLink's default).
const apolloAccept = "multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9"

// incrementalPayload is one payload of the deferSpec=20220824 format.
type incrementalPayload struct {
	Data        map[string]any `json:"data"`
	Errors      []gqlError     `json:"errors"`
	HasNext     *bool          `json:"hasNext"`
	Incremental []struct {
		Data   map[string]any `json:"data"`
		Path   []any          `json:"path"`
		Label  string         `json:"label"`
		Errors []gqlError     `json:"errors"`
	} `json:"incremental"`
}

// deferUser is a signed-in user with a website analysed: every deferred field has
// something to show.
func deferUser(t *testing.T, a *app, email string) (token, userID string) {
	t.Helper()
	token, _, userID = a.register(t, email)
	_, err := a.wizard.AnalyzeWebsite(context.Background(), userID, site(t, sitePage))
	require.NoError(t, err)
	return token, userID
}

// sendDeferred sends query over POST (or GET) with accept and returns the response
// with its body unread.
func sendDeferred(t *testing.T, serverURL, token, accept, query string, vars map[string]any, get bool) *http.Response {
	t.Helper()
	var req *http.Request
	var err error
	if get {
		values := url.Values{"query": {query}}
		if vars != nil {
			v, merr := json.Marshal(vars)
			require.NoError(t, merr)
			values.Set("variables", string(v))
		}
		req, err = http.NewRequest(http.MethodGet, serverURL+"/graphql?"+values.Encode(), nil)
	} else {
		body, merr := json.Marshal(map[string]any{"query": query, "variables": vars})
		require.NoError(t, merr)
		req, err = http.NewRequest(http.MethodPost, serverURL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	require.NoError(t, err)
	req.Header.Set("Accept", accept)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// readParts reads a multipart/mixed answer part by part, as Apollo's HttpLink does:
// each part must be application/json, and the body must end with the closing
// boundary (the reader fails on a body cut short).
func readParts(t *testing.T, resp *http.Response) []incrementalPayload {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/mixed", mediaType)
	require.Equal(t, "-", params["boundary"])
	require.Equal(t, "20220824", params["deferspec"])
	r := multipart.NewReader(resp.Body, params["boundary"])
	var payloads []incrementalPayload
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return payloads
		}
		require.NoError(t, err)
		require.Equal(t, "application/json; charset=utf-8", part.Header.Get("Content-Type"))
		raw, err := io.ReadAll(part)
		require.NoError(t, err)
		var p incrementalPayload
		require.NoError(t, json.Unmarshal(raw, &p), "%s", raw)
		require.NotNil(t, p.HasNext, "every payload says hasNext: %s", raw)
		payloads = append(payloads, p)
	}
}

// requireDeferredSequence checks the payloads of deferredSummary: the progress
// alone, then the slow parts at path onboarding with label slow, and the end.
func requireDeferredSequence(t *testing.T, payloads []incrementalPayload) {
	t.Helper()
	require.Len(t, payloads, 2)
	first, second := payloads[0], payloads[1]
	require.True(t, *first.HasNext)
	require.Empty(t, first.Errors)
	require.Empty(t, first.Incremental)
	onboarding := first.Data["onboarding"].(map[string]any)
	require.Equal(t, map[string]any{"progress": map[string]any{"currentStep": float64(1)}}, onboarding,
		"the first payload has no deferred field, not even as null")

	require.False(t, *second.HasNext)
	require.Nil(t, second.Data)
	require.Len(t, second.Incremental, 1)
	inc := second.Incremental[0]
	require.Equal(t, []any{"onboarding"}, inc.Path)
	require.Equal(t, "slow", inc.Label)
	require.Empty(t, inc.Errors)
	require.Equal(t, "Acme Analytics", inc.Data["websiteAnalysis"].(map[string]any)["title"])
	require.Contains(t, inc.Data, "personaReadiness")
	require.Equal(t, "en", inc.Data["personalization"].(map[string]any)["language"])
	require.NotContains(t, inc.Data, "progress")
}

// TestDeferOverHTTP: with multipart/mixed in Accept (as Apollo Client sends it), a
// query with @defer is answered part by part, over POST and GET; without it, one
// JSON response byte for byte the one the same query without @defer gets; with
// @defer(if: false), the plain response whatever the Accept.
func TestDeferOverHTTP(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	ts := serve(t, a)
	token, _ := deferUser(t, a, "defer-http@example.com")

	plain := sendDeferred(t, ts.URL, token, "application/json", plainSummary, nil, false)
	plainBody, err := io.ReadAll(plain.Body)
	require.NoError(t, err)
	require.NotContains(t, string(plainBody), `"errors"`)

	for _, get := range []bool{false, true} {
		resp := sendDeferred(t, ts.URL, token, apolloAccept, deferredSummary, nil, get)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
		requireDeferredSequence(t, readParts(t, resp))
	}

	t.Run("without multipart in Accept: one merged response", func(t *testing.T) {
		for _, accept := range []string{"application/json", "application/graphql-response+json", ""} {
			resp := sendDeferred(t, ts.URL, token, accept, deferredSummary, nil, false)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.NotContains(t, resp.Header.Get("Content-Type"), "multipart")
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, string(plainBody), string(body), "Accept %q", accept)
		}
	})

	t.Run("a deferSpec we do not write is not offered", func(t *testing.T) {
		resp := sendDeferred(t, ts.URL, token, "multipart/mixed;incrementalSpec=v0.2,application/json;q=0.9", deferredSummary, nil, false)
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"))
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, string(plainBody), string(body))
	})

	t.Run("if false: the plain response", func(t *testing.T) {
		resp := sendDeferred(t, ts.URL, token, apolloAccept, deferredSummary, map[string]any{"later": false}, false)
		require.Equal(t, "application/graphql-response+json; charset=utf-8", resp.Header.Get("Content-Type"))
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, string(plainBody), string(body))
	})

	t.Run("@stream is not supported: a validation error", func(t *testing.T) {
		resp := sendDeferred(t, ts.URL, token, apolloAccept, `{ onboarding { personas @stream { id } } }`, nil, false)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		var out struct{ Errors []gqlError }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		require.Len(t, out.Errors, 1)
		require.Equal(t, "GRAPHQL_VALIDATION_FAILED", out.Errors[0].Extensions["code"], "%+v", out.Errors)
		require.Contains(t, out.Errors[0].Message, "stream")
	})

	t.Run("no @defer: the plain response", func(t *testing.T) {
		resp := sendDeferred(t, ts.URL, token, apolloAccept, plainSummary, nil, false)
		require.Equal(t, "application/graphql-response+json; charset=utf-8", resp.Header.Get("Content-Type"))
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, string(plainBody), string(body))
	})
}

// errorInDeferred asks for the plan (NOT_FOUND once the account is gone) in a
// deferred fragment: the plan is non-null, so the fragment's data is null.
const errorInDeferred = `{ onboarding { progress { currentStep } ... @defer(label: "plan") { plan { tier } } } }`

// TestDeferredFragmentErrors: an error inside a deferred fragment arrives with that
// fragment's payload (its path, its label, data null because the failing field is
// non-null), not in the first; the merged answer carries it too.
func TestDeferredFragmentErrors(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	ts := serve(t, a)
	token, _, userID := a.register(t, "defer-errors@example.com")
	// The token stays valid (sessions are refused from memory, not read), but the
	// account row the plan reads is gone.
	_, err := a.db.NewDelete().Table("users").Where("id = ?", userID).Exec(context.Background())
	require.NoError(t, err)

	payloads := readParts(t, sendDeferred(t, ts.URL, token, apolloAccept, errorInDeferred, nil, false))
	require.Len(t, payloads, 2)
	require.Empty(t, payloads[0].Errors)
	require.Equal(t, map[string]any{"progress": map[string]any{"currentStep": float64(1)}}, payloads[0].Data["onboarding"])
	require.False(t, *payloads[1].HasNext)
	inc := payloads[1].Incremental
	require.Len(t, inc, 1)
	require.Nil(t, inc[0].Data)
	require.Equal(t, "plan", inc[0].Label)
	require.Equal(t, []any{"onboarding"}, inc[0].Path)
	require.Len(t, inc[0].Errors, 1)
	require.Equal(t, "NOT_FOUND", inc[0].Errors[0].Extensions["code"])
	require.Equal(t, []any{"onboarding", "plan"}, inc[0].Errors[0].Path)

	resp := sendDeferred(t, ts.URL, token, "application/json", errorInDeferred, nil, false)
	var merged struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&merged))
	require.Len(t, merged.Errors, 1)
	require.Equal(t, "NOT_FOUND", merged.Errors[0].Extensions["code"])
	require.Equal(t, map[string]any{"progress": map[string]any{"currentStep": float64(1)}, "plan": nil}, merged.Data["onboarding"],
		"a failed fragment adds nothing to the data: its field stays null, where its error points")
}

// TestDeferOverWebSocket: over graphql-transport-ws and legacy graphql-ws, each
// payload of a deferred query is a message of its own (next, or data), then complete.
func TestDeferOverWebSocket(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	ts := serve(t, a)
	token, _ := deferUser(t, a, "defer-ws@example.com")

	payloadOf := func(t *testing.T, m wsMessage, id, typ string) incrementalPayload {
		t.Helper()
		require.Equal(t, id, m.ID)
		require.Equal(t, typ, m.Type, "%s", m.Payload)
		var p incrementalPayload
		require.NoError(t, json.Unmarshal(m.Payload, &p), "%s", m.Payload)
		require.NotNil(t, p.HasNext, "%s", m.Payload)
		return p
	}

	t.Run("graphql-transport-ws", func(t *testing.T) {
		ws := dialGraphQLWS(t, ts.URL, token)
		ws.subscribe(t, "d1", deferredSummary)
		first := payloadOf(t, ws.next(t), "d1", "next")
		second := payloadOf(t, ws.next(t), "d1", "next")
		require.Equal(t, wsMessage{ID: "d1", Type: "complete"}, ws.next(t))
		requireDeferredSequence(t, []incrementalPayload{first, second})

		// if: false is one ordinary result.
		payload, err := json.Marshal(map[string]any{"query": deferredSummary, "variables": map[string]any{"later": false}})
		require.NoError(t, err)
		ws.write(t, wsMessage{ID: "d2", Type: "subscribe", Payload: payload})
		raw := ws.result(t, "d2")
		require.NotContains(t, string(raw), "hasNext")
		require.Contains(t, string(raw), `"personalization":{"businessName"`)
	})

	t.Run("legacy graphql-ws", func(t *testing.T) {
		ws := dialLegacyWS(t, ts.URL, token)
		payload, err := json.Marshal(map[string]any{"query": deferredSummary})
		require.NoError(t, err)
		ws.write(t, wsMessage{ID: "l1", Type: "start", Payload: payload})
		first := payloadOf(t, legacyNext(t, ws), "l1", "data")
		second := payloadOf(t, legacyNext(t, ws), "l1", "data")
		require.Equal(t, wsMessage{ID: "l1", Type: "complete"}, legacyNext(t, ws))
		requireDeferredSequence(t, []incrementalPayload{first, second})
	})
}

// legacyNext reads the next message other than the legacy protocol's keep-alive.
func legacyNext(t *testing.T, c *wsClient) wsMessage {
	t.Helper()
	for {
		if m := c.next(t); m.Type != "ka" {
			return m
		}
	}
}

// dialLegacyWS opens a legacy graphql-ws socket and authenticates it.
func dialLegacyWS(t *testing.T, serverURL, token string) *wsClient {
	t.Helper()
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-ws"}}
	conn, _, err := dialer.Dial("ws"+strings.TrimPrefix(serverURL, "http")+"/graphql", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	c := &wsClient{conn: conn}
	init, err := json.Marshal(map[string]string{"authorization": "Bearer " + token})
	require.NoError(t, err)
	c.write(t, wsMessage{Type: "connection_init", Payload: init})
	for {
		m := c.next(t)
		if m.Type == "connection_ack" {
			return c
		}
		require.Equal(t, "ka", m.Type, "%+v", m)
	}
}

// apolloDeferResult is what apollo-defer.mjs reports of one client.
type apolloDeferResult struct {
	Error   string           `json:"error"`
	Results []map[string]any `json:"results"`
}

// TestApolloClientDefer drives the server with Apollo Client 4.3.8 and its
// Defer20220824Handler, over HttpLink and over GraphQLWsLink (graphql-ws): each
// observes the summary twice, first without the deferred parts, then complete.
func TestApolloClientDefer(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	ts := serve(t, a)
	token, _ := deferUser(t, a, "defer-apollo@example.com")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := conformance.Node(t, ctx, "apollo-defer.mjs", ts.URL+"/graphql", token)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "apollo-defer.mjs: %s", stderr.String())
	t.Logf("apollo-defer.mjs: %s", out)
	var report map[string]apolloDeferResult
	require.NoError(t, json.Unmarshal(out, &report), "%s", out)
	for _, link := range []string{"http", "ws"} {
		r := report[link]
		require.Empty(t, r.Error, link)
		require.Len(t, r.Results, 2, "%s: the first result, then the complete one", link)
		first := r.Results[0]["onboarding"].(map[string]any)
		require.Equal(t, map[string]any{"__typename": "OnboardingProgress", "currentStep": float64(1)}, first["progress"], link)
		for _, field := range []string{"websiteAnalysis", "personaReadiness", "personalization"} {
			require.NotContains(t, first, field, "%s: the first result lacks %s", link, field)
		}
		done := r.Results[1]["onboarding"].(map[string]any)
		require.Equal(t, first["progress"], done["progress"], link)
		require.Equal(t, "Acme Analytics", done["websiteAnalysis"].(map[string]any)["title"], link)
		require.Equal(t, "en", done["personalization"].(map[string]any)["language"], link)
		require.Contains(t, done, "personaReadiness", link)
	}
}

// blockResolverQueries is a query hook that, once armed, holds every statement the
// progress resolver runs until the test ends: a deferred fragment that never finishes.
type blockResolverQueries struct {
	armed   atomic.Bool
	blocked chan struct{} // one value when a statement is held
	release chan struct{}
}

func (h *blockResolverQueries) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	if fc := graphql.GetFieldContext(ctx); h.armed.Load() && fc != nil && fc.Field.Name == "progress" {
		select {
		case h.blocked <- struct{}{}:
		default:
		}
		<-h.release
	}
	return ctx
}

func (h *blockResolverQueries) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestDeferClientLeavesMidDefer: a client that disconnects while a deferred fragment
// is pending does not leave its handler waiting for the fragment.
func TestDeferClientLeavesMidDefer(t *testing.T) {
	t.Parallel()
	hook := &blockResolverQueries{blocked: make(chan struct{}, 1), release: make(chan struct{})}
	a := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite), wiring{queryHook: hook}, withoutRateLimits)
	token, _, _ := a.register(t, "defer-leave@example.com")
	var inFlight atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		defer inFlight.Add(-1)
		a.handler.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(hook.release) }) // before ts.Close: the held statements end
	hook.armed.Store(true)

	for _, accept := range []string{apolloAccept, "application/json"} {
		t.Run(accept, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			body, err := json.Marshal(map[string]any{"query": `{ onboarding { ... @defer { progress { currentStep } } } }`})
			require.NoError(t, err)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/graphql", bytes.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", accept)
			req.Header.Set("Authorization", "Bearer "+token)
			done := make(chan struct{})
			go func() {
				defer close(done)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			}()
			select {
			case <-hook.blocked:
			case <-time.After(30 * time.Second):
				t.Fatal("the deferred fragment never ran a statement")
			}
			cancel() // the client leaves
			<-done
			require.Eventually(t, func() bool { return inFlight.Load() == 0 }, 10*time.Second, 10*time.Millisecond,
				"the handler still waits for a fragment whose client left")
		})
	}
}

// TestDeferOutsideQueries: @defer in a mutation or subscription is refused before it
// runs (gqlgen would answer its fields with nulls); @defer(if: false) is not.
func TestDeferOutsideQueries(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	ts := serve(t, a)
	token, _, _ := a.register(t, "defer-mutation@example.com")

	for name, query := range map[string]string{
		"mutation":     `mutation { deleteBackup(id: "x") { ... @defer { id } } }`,
		"subscription": `subscription { billingEvents { type ... @defer(label: "l") { tier } } }`,
	} {
		t.Run(name, func(t *testing.T) {
			resp := sendDeferred(t, ts.URL, token, apolloAccept, query, nil, false)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			var out struct{ Errors []gqlError }
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
			require.Len(t, out.Errors, 1, "%+v", out.Errors)
			require.Equal(t, "GRAPHQL_VALIDATION_FAILED", out.Errors[0].Extensions["code"], "%+v", out.Errors)
			require.Contains(t, out.Errors[0].Message, "@defer is supported on queries only")
			require.Contains(t, out.Errors[0].Message, name)
			require.NotEmpty(t, out.Errors[0].Extensions["field"])
		})
	}

	t.Run("if false is not refused", func(t *testing.T) {
		resp := sendDeferred(t, ts.URL, token, apolloAccept,
			`mutation($d: Boolean!) { deleteBackup(id: "x") { ... @defer(if: $d) { id } } }`, map[string]any{"d": false}, false)
		var out struct{ Errors []gqlError }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		for _, e := range out.Errors {
			require.NotContains(t, e.Message, "@defer")
		}
	})
}
