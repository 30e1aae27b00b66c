package billing

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/internal/platform/tracing"
)

// TestStripeCallsCarryTraceparent: a call to Stripe carries the W3C traceparent of
// the request that made it, so Stripe's side (or a proxy's) joins the trace.
func TestStripeCallsCarryTraceparent(t *testing.T) {
	t.Parallel()
	_, err := tracing.Setup(context.Background(), func(string) string { return "" }, "test") // the W3C propagator
	require.NoError(t, err)
	got := make(chan string, 1)
	stripe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("Traceparent"):
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"cus_trace","object":"customer"}`)
	}))
	t.Cleanup(stripe.Close)
	api := newStripeAPI(Config{SecretKey: "sk_test_trace", APIBase: stripe.URL}, slog.New(slog.DiscardHandler))

	traceID := trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: trace.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}, TraceFlags: trace.FlagsSampled}))
	id, err := api.createCustomer(ctx, "inkgraph-customer-user-trace", map[string]string{"user_id": "user-trace"})
	require.NoError(t, err)
	require.Equal(t, "cus_trace", id)
	require.Regexp(t, `^00-`+traceID.String()+`-[0-9a-f]{16}-01$`, <-got)
}
