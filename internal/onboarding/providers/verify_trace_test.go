package providers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/internal/platform/tracing"
)

// TestVerifyCarriesTraceparent: a live key check carries the W3C traceparent of the
// request that asked for it.
func TestVerifyCarriesTraceparent(t *testing.T) {
	t.Parallel()
	_, err := tracing.Setup(context.Background(), func(string) string { return "" }, "test") // the W3C propagator
	require.NoError(t, err)
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("Traceparent"):
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[]}`)
	}))
	t.Cleanup(srv.Close)

	traceID := trace.TraceID{0x7b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	ctx := trace.ContextWithSpanContext(t.Context(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: trace.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}, TraceFlags: trace.FlagsSampled}))
	v := providers.NewVerifier(nil, map[string]string{"openai": srv.URL})
	require.NoError(t, v.Verify(ctx, "openai", "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"))
	require.Regexp(t, `^00-`+traceID.String()+`-[0-9a-f]{16}-01$`, <-got)
}
