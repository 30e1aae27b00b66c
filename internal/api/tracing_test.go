package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/tracing"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/jaeger"
)

// summaryStatementBudget is what the summary may cost in SQL statements
// (TestOnboardingSummaryCostsFixedStatements holds it to exactly that).
const summaryStatementBudget = 5

// TestSummaryTraceReachesJaeger: one onboarding summary request, sent with a
// traceparent, is exported over OTLP to a real Jaeger as one trace under the caller's
// span: the HTTP request's server span, the operation's span named after it, a span
// per root field, and a client span per SQL statement (within the summary's
// statement budget, values left out of their text); an outgoing call (a website
// analysis) is a client span too, and the site receives the trace's traceparent.
// SQLite's run exports over OTLP/HTTP, PostgreSQL's over OTLP/gRPC.
//
// Not parallel: it installs the process's tracer provider (and puts the previous
// one back), which the server, the SQL hook and the outgoing transports read.
func TestSummaryTraceReachesJaeger(t *testing.T) {
	j := jaeger.Start(t)
	// Each dialect, and each OTLP protocol.
	for _, c := range []struct {
		dialect  testkit.Dialect
		protocol string
	}{{testkit.SQLite, "http/protobuf"}, {testkit.Postgres, "grpc"}} {
		d := c.dialect
		t.Run(string(d)+"/"+c.protocol, func(t *testing.T) {
			ctx := context.Background()
			service := "inkgraph-trace-test-" + testkit.RandomHex(4)
			// tracing.Setup reads the OTEL_* variables through getenv, and the OTLP
			// exporter reads them from the process: set them there, as an operator does.
			endpoint := j.OTLPHTTP
			if c.protocol == "grpc" {
				endpoint = j.OTLPGRPC
			}
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", c.protocol)
			t.Setenv("OTEL_SERVICE_NAME", service)
			prev := otel.GetTracerProvider()
			shutdown, err := tracing.Setup(ctx, os.Getenv, "test")
			require.NoError(t, err)
			t.Cleanup(func() { otel.SetTracerProvider(prev) })
			flushed := false
			flush := func() {
				if !flushed {
					flushed = true
					require.NoError(t, shutdown(ctx))
				}
			}
			t.Cleanup(flush)

			site := newTracedSite(t)
			a := startAppWith(t, testkit.DatabaseURL(t, d), wiring{queryHook: database.QueryTracer{}})
			email := "traced-" + testkit.RandomHex(4) + "@example.com"
			token, _, _ := a.register(t, email)
			onboard(t, a, token, site.URL)

			summaryTrace, summaryParent := newTraceparent()
			body := a.tracedPost(t, token, summaryTrace.header(summaryParent), "Summary",
				strings.Replace(summaryQuery, "query {", "query Summary {", 1), nil)
			require.NotContains(t, body, `"errors"`, body)
			analysisTrace, analysisParent := newTraceparent()
			site.reset()
			body = a.tracedPost(t, token, analysisTrace.header(analysisParent), "Analyze",
				`mutation Analyze($u: String!) { analyzeWebsite(url: $u) { title } }`, map[string]any{"u": site.URL + "/"})
			require.NotContains(t, body, `"errors"`, body)
			require.Regexp(t, `^00-`+string(analysisTrace)+`-[0-9a-f]{16}-01$`, site.traceparent(), "the site joins the trace")
			flush()

			spans := fetchTrace(t, j, string(summaryTrace))
			tree := newSpanTree(spans)
			for _, s := range spans {
				require.Equal(t, service, s.Service, s.Name)
			}

			roots := tree.childrenOf(summaryParent)
			require.Len(t, roots, 1, "one server span under the caller's: %s", tree)
			root := roots[0]
			require.Equal(t, "server", root.Kind(), tree.String())

			sql := tree.where(func(s jaeger.Span) bool { return s.Tags["db.system.name"] != nil })
			require.NotEmpty(t, sql, "the statements' spans: %s", tree)
			require.LessOrEqual(t, len(sql), summaryStatementBudget, tree.String())
			system := map[testkit.Dialect]string{testkit.SQLite: "sqlite", testkit.Postgres: "postgresql"}[d]
			for _, s := range sql {
				require.Equal(t, system, s.Tags["db.system.name"], s.Name)
				require.Equal(t, "client", s.Kind(), s.Name)
				require.True(t, tree.descends(s, root.SpanID), "%s is in the request's tree: %s", s.Name, tree)
				text, _ := s.Tags["db.query.text"].(string)
				require.NotEmpty(t, text, s.Name)
				require.NotContains(t, text, email, "no value in a statement's text")
			}

			// The website analysis: its fetch is a client span of that request.
			analysis := newSpanTree(fetchTrace(t, j, string(analysisTrace)))
			fetches := analysis.where(func(s jaeger.Span) bool {
				return s.Kind() == "client" && s.Tags["http.request.method"] == "GET"
			})
			require.NotEmpty(t, fetches, "the site's fetch: %s", analysis)
			for _, f := range fetches {
				require.True(t, analysis.descends(f, analysisParent), analysis.String())
			}

			// The names below are the request path's (the HTTP, operation and
			// resolver spans).
			require.Equal(t, "POST /graphql", root.Name, tree.String())
			ops := tree.childrenOf(root.SpanID)
			op := slices.IndexFunc(ops, func(s jaeger.Span) bool { return s.Name == "query Summary" })
			require.GreaterOrEqual(t, op, 0, "the operation's span under the request's: %s", tree)
			fields := tree.where(func(s jaeger.Span) bool {
				return strings.HasPrefix(s.Name, "Query.") && tree.descends(s, ops[op].SpanID)
			})
			require.NotEmpty(t, fields, "a span per root field under the operation's: %s", tree)
			require.True(t, slices.ContainsFunc(sql, func(s jaeger.Span) bool { return tree.descends(s, ops[op].SpanID) }),
				"the summary's statements run under its operation: %s", tree)
		})
	}
}

// traceID is a W3C trace ID, 32 hex digits.
type traceID string

// newTraceparent returns a fresh trace ID and the caller's span ID in it.
func newTraceparent() (traceID, string) {
	// The first digit is never 0, so Jaeger's IDs (which drop a zero high half) read
	// the same.
	return traceID("a" + testkit.RandomHex(16)[1:]), testkit.RandomHex(8)
}

func (id traceID) header(parent string) string { return "00-" + string(id) + "-" + parent + "-01" }

// tracedPost sends a GraphQL request with a traceparent through the whole server,
// naming its operation as clients such as Apollo's do.
func (a *app) tracedPost(t *testing.T, token, traceparent, operationName, query string, vars map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"query": query, "operationName": operationName, "variables": vars})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Traceparent", traceparent)
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	return rec.Body.String()
}

// fetchTrace reads a trace back from Jaeger. The exporter was flushed, and Jaeger
// stores what it receives before it answers; a short wait only covers its reading
// side.
func fetchTrace(t *testing.T, j *jaeger.Server, id string) []jaeger.Span {
	t.Helper()
	var spans []jaeger.Span
	require.Eventually(t, func() bool {
		var err error
		spans, err = j.Trace(context.Background(), id)
		require.NoError(t, err)
		return len(spans) > 0
	}, 10*time.Second, 50*time.Millisecond, "trace %s never reached Jaeger:\n%s", id, j.Logs())
	return spans
}

// spanTree indexes a trace's spans by ID and parent.
type spanTree struct {
	spans []jaeger.Span
	byID  map[string]jaeger.Span
}

func newSpanTree(spans []jaeger.Span) *spanTree {
	t := &spanTree{spans: spans, byID: map[string]jaeger.Span{}}
	for _, s := range spans {
		t.byID[s.SpanID] = s
	}
	return t
}

func (t *spanTree) childrenOf(id string) []jaeger.Span {
	return t.where(func(s jaeger.Span) bool { return s.ParentID == id })
}

func (t *spanTree) where(keep func(jaeger.Span) bool) []jaeger.Span {
	var out []jaeger.Span
	for _, s := range t.spans {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// descends reports whether s has the span ancestor above it.
func (t *spanTree) descends(s jaeger.Span, ancestor string) bool {
	for seen := 0; s.ParentID != "" && seen < len(t.spans)+1; seen++ {
		if s.ParentID == ancestor {
			return true
		}
		parent, ok := t.byID[s.ParentID]
		if !ok {
			return false
		}
		s = parent
	}
	return false
}

// String draws the tree, for a failing assertion's message.
func (t *spanTree) String() string {
	var b strings.Builder
	var draw func(parent string, depth int)
	draw = func(parent string, depth int) {
		for _, s := range t.childrenOf(parent) {
			b.WriteString("\n" + strings.Repeat("  ", depth) + s.Name + " [" + s.Kind() + "]")
			draw(s.SpanID, depth+1)
		}
	}
	for _, s := range t.spans {
		if _, ok := t.byID[s.ParentID]; !ok {
			b.WriteString("\n(parent " + s.ParentID + ")")
			b.WriteString("\n" + s.Name + " [" + s.Kind() + "]")
			draw(s.SpanID, 1)
		}
	}
	return b.String()
}

// tracedSite serves sitePage and remembers the traceparent of its last request.
type tracedSite struct {
	*httptest.Server
	mu   sync.Mutex
	last string
}

func newTracedSite(t *testing.T) *tracedSite {
	s := &tracedSite{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.last = r.Header.Get("Traceparent")
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(sitePage))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *tracedSite) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = ""
}

func (s *tracedSite) traceparent() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}
