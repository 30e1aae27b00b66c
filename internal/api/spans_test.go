package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/internal/api"
	inkgraph "github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// tracedServer is the whole server with its spans going to a recorder (its own
// provider: the global one is left alone) and its logs to a buffer.
type tracedServer struct {
	url   string
	spans *tracetest.SpanRecorder
	logs  *testkit.SyncBuffer
	// flushLogs writes the access lines that wait (logging.Flush).
	flushLogs func()
}

func newTracedServer(t *testing.T) *tracedServer {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s := newServerTracedBy(t, tp)
	s.spans = spans
	return s
}

// newServerTracedBy is the whole server with its spans made by tp (nil: the global
// provider's, as in production) and its logs to a buffer.
func newServerTracedBy(t *testing.T, tp trace.TracerProvider) *tracedServer {
	t.Helper()
	var svc *inkgraph.Services
	a := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite), wiring{services: func(s *inkgraph.Services, _ *bun.DB) { svc = s }})
	logs := &testkit.SyncBuffer{}
	logger := logging.New(logs, 0)
	srv := api.New(api.Deps{
		Config: a.cfg, Logger: logger, Services: svc, Now: a.clock.Now,
		Ready:          func(context.Context) error { return nil },
		TracerProvider: tp, Propagator: propagation.TraceContext{},
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &tracedServer{url: ts.URL, logs: logs, flushLogs: func() { logging.Flush(logger) }}
}

// accessLine returns the access line of the request to /graphql (one in these tests).
func (s *tracedServer) accessLine(t *testing.T) map[string]any {
	t.Helper()
	s.flushLogs()
	var access map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(s.logs.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if rec["msg"] == "http request" && rec["path"] == "/graphql" {
			access = rec
		}
	}
	require.NotNil(t, access, s.logs.String())
	return access
}

// post sends query with the given traceparent ("" for none).
func (s *tracedServer) post(t *testing.T, query, traceparent string) {
	t.Helper()
	body, err := json.Marshal(map[string]string{"query": query})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if traceparent != "" {
		req.Header.Set("traceparent", traceparent)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// byName returns the ended spans by name (each name once in these tests).
func (s *tracedServer) byName(t *testing.T) map[string]sdktrace.ReadOnlySpan {
	t.Helper()
	out := map[string]sdktrace.ReadOnlySpan{}
	for _, sp := range s.spans.Ended() {
		require.NotContains(t, out, sp.Name(), "one span named %q", sp.Name())
		out[sp.Name()] = sp
	}
	return out
}

func attr(sp sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range sp.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

func TestSpanTreeOfAQuery(t *testing.T) {
	t.Parallel()
	s := newTracedServer(t)
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	s.post(t, `query SpanPlans { plans { tier } }`, "00-"+traceID+"-"+parentID+"-01")

	spans := s.byName(t)
	require.Len(t, spans, 3, "request, operation, root field: %v", spans)
	req, op, field := spans["POST /graphql"], spans["query SpanPlans"], spans["Query.plans"]
	require.NotNil(t, req)
	require.NotNil(t, op)
	require.NotNil(t, field)

	// The caller's trace continues: its span is the request's parent.
	require.Equal(t, traceID, req.SpanContext().TraceID().String())
	require.Equal(t, parentID, req.Parent().SpanID().String())
	require.True(t, req.Parent().IsRemote())
	require.Equal(t, trace.SpanKindServer, req.SpanKind())
	require.Equal(t, "/graphql", attr(req, "http.route"))
	require.Equal(t, "POST", attr(req, "http.request.method"))
	require.Equal(t, "200", attr(req, "http.response.status_code"))

	require.Equal(t, req.SpanContext().SpanID(), op.Parent().SpanID(), "the operation is the request's child")
	require.Equal(t, "SpanPlans", attr(op, "graphql.operation.name"))
	require.Equal(t, "query", attr(op, "graphql.operation.type"))
	require.Equal(t, codes.Unset, op.Status().Code)
	require.Equal(t, op.SpanContext().SpanID(), field.Parent().SpanID(), "the root field is the operation's child")

	// Every log line of the request names the trace.
	access := s.accessLine(t)
	require.Equal(t, traceID, access["trace_id"])
	require.Equal(t, "SpanPlans", access["operation_name"])
	require.Equal(t, "OK", access["operation_code"])
}

// With tracing off (the global provider, none set) the server starts no span, and
// the caller's trace still names the request's log lines.
func TestCallersTraceWithTracingOff(t *testing.T) {
	t.Parallel()
	s := newServerTracedBy(t, nil)
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	s.post(t, `query Untraced { plans { tier } }`, "00-"+traceID+"-b7ad6b7169203331-01")
	access := s.accessLine(t)
	require.Equal(t, traceID, access["trace_id"])
	require.Equal(t, "Untraced", access["operation_name"])
}

func TestSpansRecordErrors(t *testing.T) {
	t.Parallel()
	s := newTracedServer(t)
	s.post(t, `{ me { id } }`, "")

	spans := s.byName(t)
	op, field := spans["query"], spans["Query.me"]
	require.NotNil(t, op, "an anonymous operation's span is its type")
	require.NotNil(t, field)
	require.False(t, spans["POST /graphql"].Parent().IsValid(), "no traceparent: a new trace")
	require.Equal(t, codes.Error, op.Status().Code)
	require.Equal(t, "UNAUTHENTICATED", op.Status().Description)
	require.Equal(t, codes.Error, field.Status().Code)
	require.NotEmpty(t, field.Events(), "the error is recorded on the field's span")
	require.Equal(t, "exception", field.Events()[0].Name)
}

func TestHealthRequestSpan(t *testing.T) {
	t.Parallel()
	s := newTracedServer(t)
	resp, err := http.Get(s.url + "/healthz")
	require.NoError(t, err)
	_ = resp.Body.Close()
	resp, err = http.Get(s.url + "/nothing/here")
	require.NoError(t, err)
	_ = resp.Body.Close()

	spans := s.byName(t)
	require.Contains(t, spans, "GET /healthz")
	require.Contains(t, spans, "GET", "an unmatched request's span is its method alone")
	require.Equal(t, "404", attr(spans["GET"], "http.response.status_code"))
}

// A socket's operation has a line of its own (the socket's one access line is
// written when it closes): its name and type, and the IDs of the request that opened
// the socket, of the operation, and of the operation's trace (a root of its own).
func TestSocketOperationLine(t *testing.T) {
	t.Parallel()
	s := newTracedServer(t)
	ws := dialGraphQLWSWith(t, s.url, map[string]string{})
	ws.subscribe(t, "1", `query SocketPlans { plans { tier } }`)
	require.Contains(t, string(ws.result(t, "1")), `"FREE"`)

	op := s.byName(t)["query SocketPlans"]
	require.NotNil(t, op)
	s.flushLogs()
	var line map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(s.logs.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &rec))
		if rec["msg"] == "graphql operation" {
			require.Nil(t, line, "one line for the one operation")
			line = rec
		}
	}
	require.NotNil(t, line, s.logs.String())
	require.Equal(t, "INFO", line["level"])
	require.Equal(t, "SocketPlans", line["operation_name"])
	require.Equal(t, "query", line["operation_type"])
	require.NotEmpty(t, line["request_id"])
	require.NotEmpty(t, line["operation_id"])
	require.Equal(t, op.SpanContext().TraceID().String(), line["trace_id"])
}
