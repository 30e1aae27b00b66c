package llm_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
)

// The metrics tests are not parallel: the collectors are the process's, and a
// sequential top-level test runs while no parallel one does, so a delta is its own.

// read is metrics.Read, failing t on an error.
func read(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	v, err := metrics.Read(name, labels...)
	require.NoError(t, err)
	return v
}

// firstTokenCount is how many first-token latencies provider has observed.
func firstTokenCount(t *testing.T, provider string) float64 {
	t.Helper()
	return read(t, "inkgraph_llm_first_token_seconds", "provider", provider)
}

// upstreamErrors is the upstream errors of the OpenAI-compatible client for reason.
func upstreamErrors(t *testing.T, reason string) float64 {
	t.Helper()
	return read(t, "inkgraph_llm_upstream_errors_total", "provider", llm.ProviderOpenAICompatible, "reason", reason)
}

// namedScript is script under a provider name of its own, so that its series is the
// test's alone.
type namedScript struct {
	*script
	name string
}

func (s namedScript) Info() llm.Info { return llm.Info{Provider: s.name, Model: "script-1"} }

func TestRunMetrics(t *testing.T) {
	p := namedScript{script: &script{texts: []string{"one ", "two ", "three"}, last: llm.Chunk{Done: &llm.Done{FinishReason: "stop"}}},
		name: "metrics-run-test"}
	req := llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}

	before := firstTokenCount(t, p.name)
	res, err := llm.Run(t.Context(), p, &req, nil, func(string) bool { return true })
	require.NoError(t, err)
	require.Equal(t, 3, res.Streamed, "each text delta passed on counts")
	require.Equal(t, before+1, firstTokenCount(t, p.name), "one first token per call")

	res, err = llm.Run(t.Context(), p, &req, nil, nil)
	require.NoError(t, err)
	require.Zero(t, res.Streamed, "a call whose text is not shown streams nothing")
	require.Equal(t, before+2, firstTokenCount(t, p.name))

	failing := namedScript{script: &script{err: context.DeadlineExceeded}, name: p.name}
	_, err = llm.Run(t.Context(), failing, &req, nil, nil)
	require.Error(t, err)
	require.Equal(t, before+2, firstTokenCount(t, p.name), "a call that never answered has no first token")
}

func TestUpstreamErrorMetrics(t *testing.T) {
	retryNow := http.Header{"Retry-After-Ms": {"0"}}
	eventStream := http.Header{"Content-Type": {"text/event-stream"}}
	const hel = `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}`
	tests := []struct {
		name   string
		reply  fakellm.Response
		json   bool          // CompleteJSON rather than Stream
		url    string        // a base URL other than the fake's
		idle   time.Duration // the client's timeout, when it matters
		reason string
	}{
		{name: "server error", reply: fakellm.Response{Status: http.StatusInternalServerError, Header: retryNow}, reason: metrics.ReasonStatus},
		{name: "unknown model", reply: fakellm.Response{Status: http.StatusNotFound}, reason: metrics.ReasonStatus},
		{name: "rate limited", reply: fakellm.Response{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"30"}}},
			reason: metrics.ReasonRateLimited},
		{name: "unreachable", url: closedURL(t), reason: metrics.ReasonConnection},
		{name: "cut off", reply: fakellm.Response{Body: sse(hel), Header: eventStream}, reason: metrics.ReasonProtocol},
		{name: "malformed chunk", reply: fakellm.Response{Body: sse(hel, `{not json`), Header: eventStream}, reason: metrics.ReasonProtocol},
		{name: "error event", reply: fakellm.Response{Body: sse(hel, `{"error":{"message":"boom","type":"server_error"}}`), Header: eventStream},
			reason: metrics.ReasonStatus},
		{name: "silent", reply: fakellm.Response{Chunks: []fakellm.Chunk{{Content: "partial "}}, Hold: true}, idle: time.Second,
			reason: metrics.ReasonTimeout},
		{name: "not JSON", json: true, reply: fakellm.Response{Content: "Sure!"}, reason: metrics.ReasonAnswer},
		{name: "no choices", json: true, reply: fakellm.Response{Body: `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[]}`},
			reason: metrics.ReasonProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakellm.New(t)
			srv.Reply = func(fakellm.Request) fakellm.Response { return tt.reply }
			url := srv.URL()
			if tt.url != "" {
				url = tt.url
			}
			c := newClient(t, llm.Config{BaseURL: url, Timeout: tt.idle})
			before := upstreamErrors(t, tt.reason)

			var err error
			if tt.json {
				_, _, err = c.CompleteJSON(t.Context(), system, prompt)
			} else {
				_, err = llm.Run(t.Context(), c, &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil, nil)
			}
			require.Error(t, err)
			require.Equal(t, before+1, upstreamErrors(t, tt.reason), "one failure, counted once under %s", tt.reason)
		})
	}

	t.Run("abandoned by the caller", func(t *testing.T) {
		srv := fakellm.New(t)
		srv.Reply = func(fakellm.Request) fakellm.Response {
			return fakellm.Response{Chunks: []fakellm.Chunk{{Content: "partial "}}, Hold: true}
		}
		c := newClient(t, llm.Config{BaseURL: srv.URL()})
		total := func() float64 {
			sum := 0.0
			for _, r := range []string{metrics.ReasonTimeout, metrics.ReasonRateLimited, metrics.ReasonStatus,
				metrics.ReasonConnection, metrics.ReasonProtocol, metrics.ReasonAnswer} {
				sum += upstreamErrors(t, r)
			}
			return sum
		}
		before := total()
		ctx, cancel := context.WithCancel(t.Context())
		_, err := llm.Run(ctx, c, &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil,
			func(string) bool { cancel(); return true })
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, before, total(), "a call the caller left is not the provider's failure")
	})
}

// closedURL is a base URL nothing listens on: a fresh port, closed at once.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String() + "/v1"
	require.NoError(t, ln.Close())
	return url
}

// TestClientSendsTraceparent: each LLM call is an llm.stream span whose child is the
// HTTP client's span, and the request carries the caller's trace in traceparent, so
// a trace continues into the provider's. It installs the process's tracer provider
// (as tracing.Setup does in main): no other test in this package records spans.
func TestClientSendsTraceparent(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder)))
	otel.SetTextMapPropagator(propagation.TraceContext{})
	srv := fakellm.New(t)
	srv.Reply = func(fakellm.Request) fakellm.Response { return fakellm.Response{Content: `{"ok": true}`} }
	c := newClient(t, llm.Config{BaseURL: srv.URL(), Model: "traced-model"})
	traceID, err := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	require.NoError(t, err)
	spanID, err := trace.SpanIDFromHex("00f067aa0ba902b7")
	require.NoError(t, err)
	ctx := trace.ContextWithRemoteSpanContext(t.Context(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled, Remote: true,
	}))

	_, err = llm.Run(ctx, c, &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil, nil)
	require.NoError(t, err)
	_, _, err = c.CompleteJSON(ctx, system, prompt)
	require.NoError(t, err)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		tp := r.Header.Get("Traceparent")
		require.Regexp(t, `^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$`, tp, "the caller's trace ID, sampled")
	}

	var stream, client []sdktrace.ReadOnlySpan
	for _, s := range recorder.Ended() {
		require.Equal(t, traceID, s.SpanContext().TraceID(), "every span is in the caller's trace")
		switch s.SpanKind() {
		case trace.SpanKindClient:
			client = append(client, s)
		case trace.SpanKindInternal:
			if s.Name() == "llm.stream" {
				stream = append(stream, s)
			}
		}
	}
	require.Len(t, stream, 1, "one llm.stream span for the streamed call")
	require.Contains(t, stream[0].Attributes(), attribute.String("gen_ai.request.model", "traced-model"))
	require.Contains(t, stream[0].Attributes(), attribute.String("gen_ai.provider.name", llm.ProviderOpenAICompatible))
	var under sdktrace.ReadOnlySpan
	for _, s := range client {
		if s.Parent().SpanID() == stream[0].SpanContext().SpanID() {
			under = s
		}
	}
	require.NotNil(t, under, "the streamed call's HTTP client span is under llm.stream")
	require.Contains(t, reqs[0].Header.Get("Traceparent"), under.SpanContext().SpanID().String(), "traceparent names the client span")
}
