package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

func TestOperationNamesAreBounded(t *testing.T) {
	t.Parallel()
	var n operationNames
	require.Equal(t, "anonymous", n.label("", true))
	require.Equal(t, "other", n.label("NotYetAdmitted", false), "a name is not admitted by an operation that failed or was anonymous")
	require.Equal(t, "other", n.label(strings.Repeat("A", maxOperationNameLen+1), true), "an over-long name is never a label")
	require.Zero(t, n.count, "neither took a slot")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range maxOperationNames {
				n.label(fmt.Sprintf("Op%d", (i+w)%maxOperationNames), true)
			}
		})
	}
	wg.Wait()
	require.Equal(t, maxOperationNames, n.count)
	require.Equal(t, "Op7", n.label("Op7", false), "a name admitted keeps its label")
	require.Equal(t, "other", n.label("OneTooMany", true), "beyond the bound: other")
	require.Equal(t, "other", n.label("OneTooMany", true))
	require.Equal(t, "anonymous", n.label("", false))
}

func TestOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		resp *graphql.Response
		want string
	}{
		{nil, "OK"},
		{&graphql.Response{}, "OK"},
		{&graphql.Response{Errors: gqlerror.List{{Extensions: map[string]any{"code": "RATE_LIMITED"}}, {Extensions: map[string]any{"code": "INTERNAL"}}}}, "RATE_LIMITED"},
		{&graphql.Response{Errors: gqlerror.List{{Message: "no code"}}}, "UNKNOWN"},
		{&graphql.Response{Errors: gqlerror.List{{Extensions: map[string]any{"code": "lower-case"}}}}, "UNKNOWN"},
		{&graphql.Response{Errors: gqlerror.List{{Extensions: map[string]any{"code": strings.Repeat("A", 41)}}}}, "UNKNOWN"},
		{&graphql.Response{Errors: gqlerror.List{{Extensions: map[string]any{"code": 42}}}}, "UNKNOWN"},
	} {
		require.Equal(t, tc.want, outcome(tc.resp))
	}
}

func TestRequestIDsAndLabels(t *testing.T) {
	t.Parallel()
	for id, sane := range map[string]bool{
		"abc-123": true, "A.b_c-9": true, strings.Repeat("x", 64): true,
		"": false, strings.Repeat("x", 65): false, "bad id": false, "é": false, "a/b": false, "a\n": false,
	} {
		require.Equal(t, sane, saneRequestID(id), "%q", id)
	}
	require.Equal(t, "POST", methodLabel("POST"))
	require.Equal(t, "OTHER", methodLabel("BREW"))
	require.Equal(t, "200", statusLabel(200))
	require.Equal(t, "999", statusLabel(999))
	require.Equal(t, "/webhooks/stripe", patternRoute("POST /webhooks/stripe"))
	require.Equal(t, "/graphql", patternRoute("/graphql"))
}

// TestPanickingHandlerIsStillObserved: a handler outside gqlgen that panics (net/http
// recovers it) is counted as a 500 and logged, and the panic goes on up.
func TestPanickingHandlerIsStillObserved(t *testing.T) {
	t.Parallel()
	route := "/panics-" + testkit.RandomHex(6)
	logs := &testkit.SyncBuffer{}
	s := &Server{logger: logging.New(logs, slog.LevelInfo), tracer: tracenoop.NewTracerProvider().Tracer("test"), routes: http.NewServeMux()}
	s.routes.HandleFunc("GET "+route, func(http.ResponseWriter, *http.Request) { panic("boom") })
	h := s.observe(s.routes)

	before, err := metrics.Read("inkgraph_http_requests_total", "route", route, "status", "500")
	require.NoError(t, err)
	require.PanicsWithValue(t, "boom", func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, route, nil))
	})
	after, err := metrics.Read("inkgraph_http_requests_total", "route", route, "status", "500")
	require.NoError(t, err)
	require.InDelta(t, 1, after-before, 0)
	logging.Flush(s.logger) // the access line waits to be written with others
	require.Contains(t, logs.String(), `"status":500`)
	require.Contains(t, logs.String(), `"path":"`+route+`"`)
}
