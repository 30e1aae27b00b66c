package ssetransport

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/models"
)

// TestSupports: the transport claims PUT, DELETE, requests with a stream token and
// GETs and POSTs that accept text/event-stream; plain GraphQL over HTTP stays with
// the other transports.
func TestSupports(t *testing.T) {
	t.Parallel()
	tr := &Transport{}
	for _, tc := range []struct {
		method, target string
		header         map[string]string
		want           bool
	}{
		{http.MethodPut, "/graphql", nil, true},
		{http.MethodDelete, "/graphql?operationId=x", nil, true},
		{http.MethodPost, "/graphql", map[string]string{StreamHeader: "t"}, true},
		{http.MethodPost, "/graphql?token=t", nil, true},
		{http.MethodGet, "/graphql", map[string]string{"Accept": "text/event-stream"}, true},
		{http.MethodPost, "/graphql", map[string]string{"Accept": "application/json, text/event-stream"}, true},
		{http.MethodPost, "/graphql", map[string]string{"Accept": "application/json"}, false},
		{http.MethodGet, "/graphql?query=x", nil, false},
		{http.MethodGet, "/graphql?tokens=x", nil, false},
		{http.MethodOptions, "/graphql", map[string]string{"Accept": "text/event-stream"}, false},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		for k, v := range tc.header {
			r.Header.Set(k, v)
		}
		require.Equal(t, tc.want, tr.Supports(r), "%s %s %v", tc.method, tc.target, tc.header)
	}
}

// TestReadParams: well-formed parameters are read with their types (numbers kept as
// json.Number); each malformed one is refused naming its field.
func TestReadParams(t *testing.T) {
	t.Parallel()
	post := func(contentType, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		return r
	}
	r := post("application/json; charset=utf-8",
		`{"query":"query Q($n: Int) { a }","operationName":"Q","variables":{"n":12345678901234567890},"extensions":{"operationId":"op"}}`)
	params, fail := readParams(r)
	require.Nil(t, fail)
	require.Equal(t, "Q", params.OperationName)
	require.Equal(t, json.Number("12345678901234567890"), params.Variables["n"])
	id, fail := operationIDOf(params)
	require.Nil(t, fail)
	require.Equal(t, "op", id)

	get := httptest.NewRequest(http.MethodGet, `/graphql?query=%7Ba%7D&variables=%7B%22x%22%3A1%7D&token=t`, nil)
	params, fail = readParams(get)
	require.Nil(t, fail)
	require.Equal(t, "{a}", params.Query)
	require.Equal(t, json.Number("1"), params.Variables["x"])

	for _, tc := range []struct {
		r      *http.Request
		status int
		field  string
	}{
		{post("text/plain", `{"query":"{a}"}`), http.StatusUnsupportedMediaType, "Content-Type"},
		{post("application/json; charset=latin1", `{"query":"{a}"}`), http.StatusUnsupportedMediaType, "Content-Type"},
		{post("application/json", ``), http.StatusBadRequest, "body"},
		{post("application/json", `[]`), http.StatusBadRequest, "body"},
		{post("application/json", `{"query":"{a}"} {}`), http.StatusBadRequest, "body"},
		{post("application/json", `{"variables":{}}`), http.StatusBadRequest, "query"},
		{post("application/json", `{"query":true}`), http.StatusBadRequest, "query"},
		{post("application/json", `{"query":"{a}","operationName":1}`), http.StatusBadRequest, "operationName"},
		{post("application/json", `{"query":"{a}","variables":"x"}`), http.StatusBadRequest, "variables"},
		{post("application/json", `{"query":"{a}","extensions":[1]}`), http.StatusBadRequest, "extensions"},
		{httptest.NewRequest(http.MethodGet, `/graphql?variables=%7B`, nil), http.StatusBadRequest, "variables"},
		{httptest.NewRequest(http.MethodGet, `/graphql?operationName=x`, nil), http.StatusBadRequest, "query"},
	} {
		_, fail := readParams(tc.r)
		require.NotNil(t, fail, "%s %s", tc.r.Method, tc.r.URL)
		require.Equal(t, tc.status, fail.status, fail.message)
		require.Equal(t, tc.field, fail.field, fail.message)
		require.NotEmpty(t, fail.code)
	}

	// A persisted query may leave the query out.
	params, fail = readParams(post("application/json", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"h"}}}`))
	require.Nil(t, fail)
	require.Empty(t, params.Query)

	for _, ext := range []map[string]any{nil, {"operationId": ""}, {"operationId": 1}, {"operationId": strings.Repeat("x", maxOperationIDLen+1)}} {
		params.Extensions = ext
		_, fail := operationIDOf(params)
		require.NotNil(t, fail, "%v", ext)
		require.Equal(t, "extensions.operationId", fail.field)
	}
}

// TestEvents: the frames are what graphql-sse's client parses: one data line of
// JSON, the operation's ID around its payload in single-connection mode, and an
// empty data field on a distinct stream's complete (EventSource needs it).
func TestEvents(t *testing.T) {
	t.Parallel()
	b, err := nextEvent("", map[string]any{"data": map[string]string{"a": "line\nbreak"}})
	require.NoError(t, err)
	require.Equal(t, "event: next\ndata: {\"data\":{\"a\":\"line\\nbreak\"}}\n\n", string(b))
	b, err = nextEvent("op", map[string]any{"data": nil})
	require.NoError(t, err)
	require.Equal(t, "event: next\ndata: {\"id\":\"op\",\"payload\":{\"data\":null}}\n\n", string(b))
	// A response, as the executor gives it: the same frames.
	resp := &graphql.Response{Data: json.RawMessage(`{"a":"b"}`), Extensions: map[string]any{"cost": 1}}
	b, err = nextEvent("", resp)
	require.NoError(t, err)
	require.Equal(t, "event: next\ndata: {\"data\":{\"a\":\"b\"},\"extensions\":{\"cost\":1}}\n\n", string(b))
	b, err = nextEvent("op\"1", resp)
	require.NoError(t, err)
	require.Equal(t, "event: next\ndata: {\"id\":\"op\\\"1\",\"payload\":{\"data\":{\"a\":\"b\"},\"extensions\":{\"cost\":1}}}\n\n", string(b))
	// A marshaler's newline (json.Encoder's) would end the data line: compacted.
	b, err = nextEvent("", &graphql.Response{Data: json.RawMessage("{\"p\":{\"k\":1}\n}")})
	require.NoError(t, err)
	require.Equal(t, "event: next\ndata: {\"data\":{\"p\":{\"k\":1}}}\n\n", string(b))
	_, err = nextEvent("op", &graphql.Response{Extensions: map[string]any{"bad": func() {}}})
	require.Error(t, err)
	require.Equal(t, "event: complete\ndata:\n\n", string(completeEvent("")))
	require.Equal(t, "event: complete\ndata: {\"id\":\"op\"}\n\n", string(completeEvent("op")))
}

// TestUnopenedReservationIsFreed: a reservation never opened is forgotten once its
// time is up, by its timer alone (no request comes to find it lapsed), and its
// caller's count falls with it.
func TestUnopenedReservationIsFreed(t *testing.T) {
	t.Parallel()
	tr := &Transport{ReservationTTL: time.Millisecond, Owner: func(*http.Request) string { return "someone" }}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPut, "/graphql", nil)
	// A reservation is a signed-in caller's.
	req = req.WithContext(models.WithCaller(req.Context(), models.Caller{UserID: "someone"}))
	tr.Do(rec, req, nil)
	require.Equal(t, http.StatusCreated, rec.Code)
	require.NotEmpty(t, rec.Body.String())
	require.Eventually(t, func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return len(tr.streams) == 0 && tr.owned["someone"] == 0
	}, 10*time.Second, time.Millisecond)
}

// TestLapseAgainstOpen races a reservation's lapse with its opening, many times: the
// stream is either refused to the opener or left running by lapse, never opened and
// then ended under it.
func TestLapseAgainstOpen(t *testing.T) {
	t.Parallel()
	tr := &Transport{}
	for range 200 {
		ctx, cancel := context.WithCancel(context.Background())
		s := &stream{token: "t", owner: "o", ctx: ctx, cancel: cancel, gone: make(chan struct{}),
			ops: map[string]context.CancelFunc{}, timer: time.NewTimer(time.Hour)}
		tr.mu.Lock()
		tr.streams, tr.owned = map[string]*stream{s.token: s}, map[string]int{s.owner: 1}
		tr.mu.Unlock()
		// The opener claims the stream while the instance's lock is held (as by
		// another request), which lapse takes too: lapse has most likely looked at
		// the stream by then and waits for that lock. Whatever the order, the
		// assertion below holds with the fix.
		lapsed := make(chan struct{})
		tr.mu.Lock()
		go func() { tr.lapse(s); close(lapsed) }()
		for range 50 {
			runtime.Gosched()
		}
		fail := s.claim()
		tr.mu.Unlock()
		<-lapsed
		if fail == nil {
			require.NoError(t, s.ctx.Err(), "an opened stream was ended by its reservation's lapse")
		} else {
			require.Equal(t, http.StatusNotFound, fail.status)
		}
		cancel()
	}
}

// TestOperationLimitNamesTheField: the too-many-operations answer names
// extensions.operationId, as every request error names its field.
func TestOperationLimitNamesTheField(t *testing.T) {
	t.Parallel()
	s := &stream{ops: map[string]context.CancelFunc{}}
	require.Nil(t, s.register("a", func() {}, 1))
	fail := s.register("b", func() {}, 1)
	require.NotNil(t, fail)
	require.Equal(t, http.StatusTooManyRequests, fail.status)
	require.Equal(t, "extensions.operationId", fail.field)
	s.unregister("a")
}
