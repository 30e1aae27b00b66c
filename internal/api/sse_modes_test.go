package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/api"
	"github.com/inkgraph/inkgraph/internal/api/ssetransport"
	inkgraph "github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/conformance"
)

// sseLines reads an event stream: each event as it ends, and each comment line as an
// event named ":". The channel closes when the stream does.
func sseLines(body io.ReadCloser) <-chan sseEvent {
	out := make(chan sseEvent, 64)
	go func() {
		defer close(out)
		defer body.Close()
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, ":"):
				out <- sseEvent{name: ":"}
			case strings.HasPrefix(line, "event:"):
				ev.name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				ev.data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			case line == "" && ev.name != "":
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	return out
}

// nextSSEEvent returns the stream's next event that is not a comment.
func nextSSEEvent(t *testing.T, events <-chan sseEvent) sseEvent {
	t.Helper()
	for ev := range events {
		if ev.name != ":" {
			return ev
		}
	}
	t.Fatal("the stream ended")
	return sseEvent{}
}

// sseCall is one plain request of the single-connection mode and its answer.
type sseCall struct {
	status int
	header http.Header
	body   string
}

// errors decodes a JSON error answer.
func (c sseCall) errors(t *testing.T) []gqlError {
	t.Helper()
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	require.NoError(t, json.Unmarshal([]byte(c.body), &out), c.body)
	require.Nil(t, out.Data, "a request error has no data")
	require.NotEmpty(t, out.Errors, c.body)
	for _, e := range out.Errors {
		require.NotEmpty(t, e.Extensions["code"], "every error carries extensions.code: %s", c.body)
	}
	return out.Errors
}

// sseRequest sends one request to /graphql (path and query in target) and reads
// its whole answer.
func sseRequest(t *testing.T, method, target, access, token, body string) sseCall {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	if token != "" {
		req.Header.Set(ssetransport.StreamHeader, token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return sseCall{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// reserveStream reserves a single-connection stream and returns its token.
func reserveStream(t *testing.T, serverURL, access string) string {
	t.Helper()
	got := sseRequest(t, http.MethodPut, serverURL+"/graphql", access, "", "")
	require.Equal(t, http.StatusCreated, got.status, got.body)
	require.Contains(t, got.header.Get("Content-Type"), "text/plain")
	require.NotEmpty(t, got.body)
	return got.body
}

// openStream opens a reserved stream (GET with the token, accepting
// text/event-stream) and returns its events.
func openStream(t *testing.T, ctx context.Context, serverURL, access, token string) <-chan sseEvent {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, serverURL+"/graphql", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set(ssetransport.StreamHeader, token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("open: %d %s", resp.StatusCode, b)
	}
	require.Contains(t, resp.Header.Get("Content-Type"), "text/event-stream")
	return sseLines(resp.Body)
}

// operation is a single-connection POST body.
func operation(id, query string) string {
	b, _ := json.Marshal(map[string]any{"query": query, "extensions": map[string]any{"operationId": id}})
	return string(b)
}

// streamData is a single-connection event's data.
type streamData struct {
	ID      string `json:"id"`
	Payload struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	} `json:"payload"`
}

func decodeStreamData(t *testing.T, ev sseEvent) streamData {
	t.Helper()
	var d streamData
	require.NoError(t, json.Unmarshal([]byte(ev.data), &d), ev.data)
	return d
}

// TestSSESingleConnection drives the single-connection mode over real HTTP: a
// reservation is its caller's alone, a stream opens once, operations run on it (a
// query, a subscription stopped by DELETE), keep-alive comments flow, and bad
// requests are refused with a code and the field they concern.
func TestSSESingleConnection(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits, func(c *config.Config) { c.KeepAlive = 20 * time.Millisecond })
	accessA, _, _ := a.register(t, "sse-a@example.com")
	accessB, _, _ := a.register(t, "sse-b@example.com")
	ts := serve(t, a)
	gql := ts.URL + "/graphql"

	token := reserveStream(t, ts.URL, accessA)

	// Another user, and an anonymous caller, cannot use A's reservation: answered as
	// an unknown token, so its existence is not told.
	for _, access := range []string{accessB, ""} {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
			target, body := gql, operation("x", `{ me { email } }`)
			if method == http.MethodGet {
				target, body = gql+"?"+url.Values{"query": {"{ me { email } }"}, "extensions": {`{"operationId":"x"}`}}.Encode(), ""
			}
			if method == http.MethodDelete {
				target, body = gql+"?operationId=x", ""
			}
			got := sseRequest(t, method, target, access, token, body)
			require.Equal(t, http.StatusNotFound, got.status, "%s by another caller: %s", method, got.body)
			errs := got.errors(t)
			require.Equal(t, "NOT_FOUND", errs[0].Extensions["code"])
			require.Equal(t, ssetransport.StreamHeader, errs[0].Extensions["field"])
		}
	}
	// A refused access token (bad, expired, revoked) is answered 401, not served as an
	// anonymous caller's unknown token.
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		target, body := gql, operation("x", `{ me { email } }`)
		if method == http.MethodGet {
			target, body = gql+"?"+url.Values{"query": {"{ me { email } }"}, "extensions": {`{"operationId":"x"}`}}.Encode(), ""
		}
		if method == http.MethodDelete {
			target, body = gql+"?operationId=x", ""
		}
		got := sseRequest(t, method, target, "not-a-token", token, body)
		require.Equal(t, http.StatusUnauthorized, got.status, "%s with a refused access token: %s", method, got.body)
		errs := got.errors(t)
		require.Equal(t, "UNAUTHENTICATED", errs[0].Extensions["code"])
		require.Equal(t, "Authorization", errs[0].Extensions["field"])
	}
	// An unknown token, in the header or the URL.
	got := sseRequest(t, http.MethodPost, gql, accessA, "not-a-token", operation("x", `{ me { email } }`))
	require.Equal(t, http.StatusNotFound, got.status)
	require.Equal(t, "NOT_FOUND", got.errors(t)[0].Extensions["code"])
	got = sseRequest(t, http.MethodPost, gql+"?token=not-a-token", accessA, "", operation("x", `{ me { email } }`))
	require.Equal(t, http.StatusNotFound, got.status)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events := openStream(t, ctx, ts.URL, accessA, token)
	// A reservation serves one connection.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, gql+"?token="+url.QueryEscape(token), nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+accessA)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusConflict, resp.StatusCode)

	// Keep-alive: comment lines on an idle stream (the first is sent on opening).
	comments := 0
	for comments < 2 {
		ev, ok := <-events
		require.True(t, ok, "the stream ended")
		require.Equal(t, ":", ev.name, "nothing but comments on an idle stream: %+v", ev)
		comments++
	}

	// A query: 202, then its result and complete on the stream, under its ID.
	got = sseRequest(t, http.MethodPost, gql, accessA, token, operation("q1", `{ me { email } }`))
	require.Equal(t, http.StatusAccepted, got.status, got.body)
	require.JSONEq(t, `{"extensions":{"operationId":"q1"}}`, got.body)
	ev := nextSSEEvent(t, events)
	require.Equal(t, "next", ev.name)
	d := decodeStreamData(t, ev)
	require.Equal(t, "q1", d.ID)
	require.Empty(t, d.Payload.Errors)
	require.Equal(t, "sse-a@example.com", d.Payload.Data["me"].(map[string]any)["email"])
	ev = nextSSEEvent(t, events)
	require.Equal(t, "complete", ev.name)
	require.JSONEq(t, `{"id":"q1"}`, ev.data)

	// A subscription that waits for events; a second with its ID is refused; DELETE
	// stops it and it completes.
	got = sseRequest(t, http.MethodPost, gql, accessA, token, operation("s1", `subscription { accountEvents { type } }`))
	require.Equal(t, http.StatusAccepted, got.status, got.body)
	got = sseRequest(t, http.MethodPost, gql, accessA, token, operation("s1", `subscription { accountEvents { type } }`))
	require.Equal(t, http.StatusConflict, got.status, got.body)
	require.Equal(t, "CONFLICT", got.errors(t)[0].Extensions["code"])
	require.Equal(t, "extensions.operationId", got.errors(t)[0].Extensions["field"])
	got = sseRequest(t, http.MethodDelete, gql+"?operationId=s1", accessA, token, "")
	require.Equal(t, http.StatusOK, got.status, got.body)
	ev = nextSSEEvent(t, events)
	require.Equal(t, "complete", ev.name, ev.data)
	require.JSONEq(t, `{"id":"s1"}`, ev.data)
	// Its ID is free again once it completed.
	got = sseRequest(t, http.MethodPost, gql, accessA, token, operation("s1", `{ me { email } }`))
	require.Equal(t, http.StatusAccepted, got.status, got.body)
	require.Equal(t, "next", nextSSEEvent(t, events).name)
	require.Equal(t, "complete", nextSSEEvent(t, events).name)

	// Bad requests: each refused with its code and field, and nothing on the stream.
	for _, tc := range []struct {
		name, method, target, body string
		status                     int
		code, field                string
	}{
		{"no operation ID", http.MethodPost, gql, `{"query":"{ me { email } }"}`, http.StatusBadRequest, "BAD_REQUEST", "extensions.operationId"},
		{"operation ID not a string", http.MethodPost, gql, `{"query":"{ me { email } }","extensions":{"operationId":7}}`, http.StatusBadRequest, "BAD_REQUEST", "extensions.operationId"},
		{"body not JSON", http.MethodPost, gql, `{"query":`, http.StatusBadRequest, "BAD_REQUEST", "body"},
		{"query not a string", http.MethodPost, gql, `{"query":1,"extensions":{"operationId":"b"}}`, http.StatusBadRequest, "BAD_REQUEST", "query"},
		{"variables not an object", http.MethodPost, gql, `{"query":"{ me { email } }","variables":[],"extensions":{"operationId":"b"}}`, http.StatusBadRequest, "BAD_REQUEST", "variables"},
		{"parse error", http.MethodPost, gql, operation("b", `{ me {`), http.StatusBadRequest, "GRAPHQL_PARSE_FAILED", ""},
		{"validation error", http.MethodPost, gql, operation("b", `{ nope }`), http.StatusBadRequest, "GRAPHQL_VALIDATION_FAILED", ""},
		{"mutation over GET", http.MethodGet, gql + "?" + url.Values{"query": {`mutation { logout(refreshToken: "x") { sessionId } }`}, "extensions": {`{"operationId":"b"}`}}.Encode(), "", http.StatusMethodNotAllowed, "BAD_REQUEST", "query"},
		{"DELETE without an operation", http.MethodDelete, gql, "", http.StatusBadRequest, "BAD_REQUEST", "operationId"},
		{"a method the stream does not take", http.MethodPatch, gql, "", http.StatusMethodNotAllowed, "BAD_REQUEST", "method"},
	} {
		got := sseRequest(t, tc.method, tc.target, accessA, token, tc.body)
		require.Equal(t, tc.status, got.status, "%s: %s", tc.name, got.body)
		errs := got.errors(t)
		require.Equal(t, tc.code, errs[0].Extensions["code"], "%s: %s", tc.name, got.body)
		if tc.field != "" {
			require.Equal(t, tc.field, errs[0].Extensions["field"], "%s: %s", tc.name, got.body)
		}
	}
	// The stream is still there, and only comments came while the requests were
	// refused: the next event is this operation's.
	got = sseRequest(t, http.MethodPost, gql, accessA, token, operation("q2", `{ me { email } }`))
	require.Equal(t, http.StatusAccepted, got.status, got.body)
	require.Equal(t, "q2", decodeStreamData(t, nextSSEEvent(t, events)).ID)
}

// TestSSEReservations: a reservation lapses when its stream is not opened in time (by
// the server's clock), a caller holds a bounded number, and a refused access token
// reserves nothing.
func TestSSEReservations(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	access, _, _ := a.register(t, "sse-reserve@example.com")
	other, _, _ := a.register(t, "sse-other@example.com")
	ts := serve(t, a)

	lapsing := reserveStream(t, ts.URL, access)
	a.clock.Advance(ssetransport.DefaultReservationTTL + time.Second)
	got := sseRequest(t, http.MethodPost, ts.URL+"/graphql", access, lapsing, operation("x", `{ me { email } }`))
	require.Equal(t, http.StatusNotFound, got.status, got.body)
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/graphql", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set(ssetransport.StreamHeader, lapsing)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "a lapsed reservation does not open")

	for range ssetransport.DefaultMaxStreamsPerClient {
		reserveStream(t, ts.URL, access)
	}
	got = sseRequest(t, http.MethodPut, ts.URL+"/graphql", access, "", "")
	require.Equal(t, http.StatusTooManyRequests, got.status, got.body)
	require.Equal(t, "RATE_LIMITED", got.errors(t)[0].Extensions["code"])
	require.Equal(t, "Authorization", got.errors(t)[0].Extensions["field"], "the limit is the caller's")
	reserveStream(t, ts.URL, other) // another caller's budget is its own
	// The bound counts streams held: lapsed ones make room.
	a.clock.Advance(ssetransport.DefaultReservationTTL + time.Second)
	reserveStream(t, ts.URL, access)

	got = sseRequest(t, http.MethodPut, ts.URL+"/graphql", "not-a-token", "", "")
	require.Equal(t, http.StatusUnauthorized, got.status, got.body)
	errs := got.errors(t)
	require.Equal(t, "UNAUTHENTICATED", errs[0].Extensions["code"])
	require.Equal(t, "Authorization", errs[0].Extensions["field"])

	// Anonymous callers reserve nothing: they would share the instance's streams by
	// address alone. Distinct connections serve them.
	got = sseRequest(t, http.MethodPut, ts.URL+"/graphql", "", "", "")
	require.Equal(t, http.StatusUnauthorized, got.status, got.body)
	errs = got.errors(t)
	require.Equal(t, "UNAUTHENTICATED", errs[0].Extensions["code"])
	require.Equal(t, "Authorization", errs[0].Extensions["field"])
	require.Contains(t, errs[0].Message, "signed-in")
}

// TestSSEOperationEndsWithItsOwnSession: a single-connection operation sent with
// another session of the user than the stream's ends (with its complete) when that
// session is revoked; the stream and its other operations go on.
func TestSSEOperationEndsWithItsOwnSession(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	access, _, _ := a.register(t, "sse-session@example.com")
	data, errs := a.do(t, "", `mutation { login(input: {email: "sse-session@example.com", password: "password1"}) { accessToken refreshToken } }`, nil)
	require.Empty(t, errs)
	second := data["login"].(map[string]any)
	ts := serve(t, a)
	gql := ts.URL + "/graphql"

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	token := reserveStream(t, ts.URL, access)
	events := openStream(t, ctx, ts.URL, access, token)
	got := sseRequest(t, http.MethodPost, gql, access, token, operation("first", `subscription { accountEvents { type } }`))
	require.Equal(t, http.StatusAccepted, got.status, got.body)
	got = sseRequest(t, http.MethodPost, gql, second["accessToken"].(string), token,
		operation("second", `subscription { accountEvents { type currentSession } }`))
	require.Equal(t, http.StatusAccepted, got.status, got.body)

	_, errs = a.do(t, "", `mutation($t: String!) { logout(refreshToken: $t) { sessionId } }`,
		map[string]any{"t": second["refreshToken"]})
	require.Empty(t, errs)
	// The second operation's event about its own session may come first; then its
	// complete, and nothing of the first but its event (the stream's session lives).
	for {
		ev := nextSSEEvent(t, events)
		d := decodeStreamData(t, ev)
		if ev.name == "complete" {
			require.Equal(t, "second", d.ID, "only the revoked session's operation ends")
			break
		}
		require.Equal(t, "next", ev.name)
	}
	got = sseRequest(t, http.MethodPost, gql, access, token, operation("q", `{ me { email } }`))
	require.Equal(t, http.StatusAccepted, got.status, got.body)
	for {
		ev := nextSSEEvent(t, events)
		d := decodeStreamData(t, ev)
		require.False(t, ev.name == "complete" && d.ID == "first", "the stream's own session's operation goes on")
		if d.ID == "q" {
			require.Equal(t, "next", ev.name)
			require.Equal(t, "sse-session@example.com", d.Payload.Data["me"].(map[string]any)["email"])
			break
		}
	}
}

// TestSSEDistinctBadRequests: a request that is not a GraphQL request is answered
// with a JSON error, code and field; parse and validation errors come on the stream,
// as the protocol wants, each with its code.
func TestSSEDistinctBadRequests(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits, func(c *config.Config) { c.MaxBodyBytes = 2048 })
	ts := serve(t, a)
	post := func(contentType, body string) sseCall {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return sseCall{status: resp.StatusCode, header: resp.Header, body: string(b)}
	}
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		code, field             string
	}{
		{"not JSON", "application/json", `{"query":`, http.StatusBadRequest, "BAD_REQUEST", "body"},
		{"no query", "application/json", `{}`, http.StatusBadRequest, "BAD_REQUEST", "query"},
		{"form body", "application/x-www-form-urlencoded", `query=x`, http.StatusUnsupportedMediaType, "BAD_REQUEST", "Content-Type"},
		{"too large", "application/json", `{"query":"{ plans { tier } }` + strings.Repeat(" ", 4096) + `"}`, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", ""},
	} {
		got := post(tc.contentType, tc.body)
		require.Equal(t, tc.status, got.status, "%s: %s", tc.name, got.body)
		errs := got.errors(t)
		require.Equal(t, tc.code, errs[0].Extensions["code"], "%s: %s", tc.name, got.body)
		if tc.field != "" {
			require.Equal(t, tc.field, errs[0].Extensions["field"], tc.name)
		}
	}
	for query, code := range map[string]string{`{ plans {`: "GRAPHQL_PARSE_FAILED", `{ nope }`: "GRAPHQL_VALIDATION_FAILED"} {
		got := post("application/json", `{"query":"`+query+`"}`)
		require.Equal(t, http.StatusOK, got.status, got.body)
		require.Contains(t, got.header.Get("Content-Type"), "text/event-stream")
		events := sseLines(io.NopCloser(strings.NewReader(got.body)))
		ev := nextSSEEvent(t, events)
		require.Equal(t, "next", ev.name)
		var result struct {
			Data   json.RawMessage `json:"data"`
			Errors []gqlError      `json:"errors"`
		}
		require.NoError(t, json.Unmarshal([]byte(ev.data), &result), ev.data)
		require.NotEmpty(t, result.Errors)
		require.Equal(t, code, result.Errors[0].Extensions["code"], ev.data)
		require.Equal(t, "complete", nextSSEEvent(t, events).name)
	}
	// GET runs queries and subscriptions on a stream, not mutations.
	got := sseRequest(t, http.MethodGet, ts.URL+"/graphql?"+url.Values{"query": {`{ plans { tier } }`}}.Encode(), "", "", "")
	require.Equal(t, http.StatusOK, got.status, "a GET without text/event-stream is plain HTTP")
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/graphql?"+url.Values{"query": {`mutation { logout(refreshToken: "x") { sessionId } }`}}.Encode(), nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	req.URL.RawQuery = url.Values{"query": {`{ plans { tier } }`}}.Encode()
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	events := sseLines(resp.Body)
	ev := nextSSEEvent(t, events)
	require.Equal(t, "next", ev.name)
	require.Contains(t, ev.data, `"tier":"FREE"`)
	require.Equal(t, "complete", nextSSEEvent(t, events).name)
}

// TestSSEStreamsCloseOnShutdown: at shutdown, a distinct-connection subscription and
// every operation of a single-connection stream get their complete, the streams end,
// and Serve returns cleanly.
func TestSSEStreamsCloseOnShutdown(t *testing.T) {
	t.Parallel()
	var svc *inkgraph.Services
	a := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite),
		wiring{services: func(s *inkgraph.Services, _ *bun.DB) { svc = s }}, withoutRateLimits)
	access, _, _ := a.register(t, "sse-shutdown@example.com")
	srv := api.New(api.Deps{
		Config: a.cfg, Logger: slog.New(slog.DiscardHandler), Services: svc,
		Ready: func(context.Context) error { return nil },
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	reqCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	distinct := subscribeSSE(t, reqCtx, base, access, `subscription { accountEvents { type } }`)
	token := reserveStream(t, base, access)
	single := openStream(t, reqCtx, base, access, token)
	for _, id := range []string{"a", "b"} {
		got := sseRequest(t, http.MethodPost, base+"/graphql", access, token, operation(id, `subscription { accountEvents { type } }`))
		require.Equal(t, http.StatusAccepted, got.status, got.body)
	}

	stop() // SIGTERM
	var last sseEvent
	for ev := range distinct {
		last = ev
	}
	require.Equal(t, "complete", last.name, "the distinct stream ends with complete")
	completed := map[string]bool{}
	for ev := range single {
		if ev.name == "complete" {
			completed[decodeStreamData(t, ev).ID] = true
		}
	}
	require.Equal(t, map[string]bool{"a": true, "b": true}, completed, "each operation of the stream completes before it closes")
	require.NoError(t, reqCtx.Err(), "the streams ended before the test's own deadline")
	require.NoError(t, <-served)
}

// sseClientRun is one mode's report from sse-client.mjs.
type sseClientRun struct {
	Error string `json:"error"`
	Me    []struct {
		Data struct {
			Me struct {
				Email string `json:"email"`
			} `json:"me"`
		} `json:"data"`
		Errors []gqlError `json:"errors"`
	} `json:"me"`
	Chat    []sseChatResult `json:"chat"`
	Stopped string          `json:"stopped"`
	// Requests are the client's requests, in order: method and status.
	Requests []struct {
		Method string `json:"method"`
		Status int    `json:"status"`
	} `json:"requests"`
}

type sseChatResult struct {
	Data struct {
		Chat struct {
			Type  string `json:"type"`
			Delta string `json:"delta"`
			Done  *struct {
				Response string `json:"response"`
				Offline  bool   `json:"offline"`
			} `json:"done"`
		} `json:"chat"`
	} `json:"data"`
	Errors []gqlError `json:"errors"`
}

// TestSSEWithTheGraphQLSSEClient runs the real graphql-sse 2.6.1 client in both of its
// modes, authenticated by the Authorization header: a query, the chat subscription
// (the offline provider) to its end, and a subscription stopped once the server took
// it, which in single-connection mode the client does with DELETE.
func TestSSEWithTheGraphQLSSEClient(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	access, _, _ := a.register(t, "sse-client@example.com")
	ts := serve(t, a)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := conformance.Node(t, ctx, "sse-client.mjs", ts.URL+"/graphql", access)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "sse-client.mjs: %s", stderr.String())
	t.Logf("sse-client.mjs: %s", out)
	var report map[string]sseClientRun
	require.NoError(t, json.Unmarshal(out, &report), "%s", out)

	for _, mode := range []string{"distinct", "single"} {
		run, ok := report[mode]
		require.True(t, ok, mode)
		require.Empty(t, run.Error, mode)
		require.Len(t, run.Me, 1, mode)
		require.Empty(t, run.Me[0].Errors, mode)
		require.Equal(t, "sse-client@example.com", run.Me[0].Data.Me.Email, "%s: authenticated", mode)

		require.NotEmpty(t, run.Chat, mode)
		var text strings.Builder
		for _, r := range run.Chat {
			require.Empty(t, r.Errors, mode)
			if r.Data.Chat.Type == "TOKEN" {
				text.WriteString(r.Data.Chat.Delta)
			}
		}
		last := run.Chat[len(run.Chat)-1].Data.Chat
		require.Equal(t, "DONE", last.Type, mode)
		require.NotEmpty(t, text.String(), "%s: the answer streams as tokens", mode)
		require.Equal(t, text.String(), last.Done.Response, mode)
		require.True(t, last.Done.Offline, mode)

		require.Equal(t, "stopped", run.Stopped, mode)
	}

	methods := func(mode string) []string {
		var out []string
		for _, r := range report[mode].Requests {
			out = append(out, r.Method+" "+http.StatusText(r.Status))
		}
		return out
	}
	require.Equal(t, []string{"POST OK", "POST OK", "POST OK"}, methods("distinct"), "a stream of its own per operation")
	require.Equal(t, []string{"PUT Created", "GET OK", "POST Accepted", "POST Accepted", "POST Accepted", "DELETE OK"},
		methods("single"), "one reservation, one stream, an operation per POST, and the DELETE that stopped the last")
}

// TestSSEDefer: an operation with a deferred fragment sends each payload of the
// incremental delivery format as a next event of its own, in both modes: the data
// without the deferred fields and hasNext, then the fragment under incremental with
// its path and label, hasNext false; then complete.
func TestSSEDefer(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	access, _, _ := a.register(t, "sse-defer@example.com")
	ts := serve(t, a)
	const query = `{ onboarding { progress { currentStep } ... @defer(label: "slow") { personaReadiness { ready } } } }`
	type payload struct {
		Data        map[string]map[string]any `json:"data"`
		HasNext     *bool                     `json:"hasNext"`
		Incremental []struct {
			Data  map[string]any `json:"data"`
			Path  []any          `json:"path"`
			Label string         `json:"label"`
		} `json:"incremental"`
		Errors []gqlError `json:"errors"`
	}
	check := func(t *testing.T, initial, later payload) {
		t.Helper()
		require.Empty(t, initial.Errors)
		require.Contains(t, initial.Data["onboarding"], "progress")
		require.NotContains(t, initial.Data["onboarding"], "personaReadiness", "deferred: left out of the first payload")
		require.NotNil(t, initial.HasNext)
		require.True(t, *initial.HasNext)
		require.Nil(t, later.Data)
		require.Len(t, later.Incremental, 1)
		require.Equal(t, []any{"onboarding"}, later.Incremental[0].Path)
		require.Equal(t, "slow", later.Incremental[0].Label)
		require.Contains(t, later.Incremental[0].Data, "personaReadiness")
		require.NotNil(t, later.HasNext)
		require.False(t, *later.HasNext)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []sseEvent
	for ev := range subscribeSSE(t, ctx, ts.URL, access, query) {
		got = append(got, ev)
	}
	require.Len(t, got, 3, "%+v", got)
	var initial, later payload
	require.Equal(t, "next", got[0].name)
	require.NoError(t, json.Unmarshal([]byte(got[0].data), &initial), got[0].data)
	require.Equal(t, "next", got[1].name)
	require.NoError(t, json.Unmarshal([]byte(got[1].data), &later), got[1].data)
	check(t, initial, later)
	require.Equal(t, "complete", got[2].name)

	token := reserveStream(t, ts.URL, access)
	stream := openStream(t, ctx, ts.URL, access, token)
	call := sseRequest(t, http.MethodPost, ts.URL+"/graphql", access, token, operation("d1", query))
	require.Equal(t, http.StatusAccepted, call.status, call.body)
	var wrapped [2]struct {
		ID      string  `json:"id"`
		Payload payload `json:"payload"`
	}
	for i := range wrapped {
		ev := nextSSEEvent(t, stream)
		require.Equal(t, "next", ev.name)
		require.NoError(t, json.Unmarshal([]byte(ev.data), &wrapped[i]), ev.data)
		require.Equal(t, "d1", wrapped[i].ID)
	}
	check(t, wrapped[0].Payload, wrapped[1].Payload)
	ev := nextSSEEvent(t, stream)
	require.Equal(t, "complete", ev.name)
	require.JSONEq(t, `{"id":"d1"}`, ev.data)
}
