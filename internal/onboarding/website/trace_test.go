package website_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/internal/onboarding/website"
	"github.com/inkgraph/inkgraph/internal/platform/tracing"
)

// TestFetchCarriesTraceparent: every request of a site's fetch, redirects included,
// carries the W3C traceparent of the request that asked for the analysis, and the
// address check still applies under the tracing transport.
func TestFetchCarriesTraceparent(t *testing.T) {
	t.Parallel()
	_, err := tracing.Setup(context.Background(), func(string) string { return "" }, "test") // the W3C propagator
	require.NoError(t, err)
	var mu sync.Mutex
	seen := map[string]string{}
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Get("Traceparent")
		mu.Unlock()
		http.Redirect(w, r, "/final", http.StatusFound)
	})
	mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Get("Traceparent")
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(simplePage))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	traceID := trace.TraceID{0x6b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	ctx := trace.ContextWithSpanContext(t.Context(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: trace.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}, TraceFlags: trace.FlagsSampled}))
	_, err = website.New(website.Config{Allow: loopback}, nil, nil).Analyze(ctx, srv.URL+"/start")
	require.NoError(t, err)
	mu.Lock()
	require.Regexp(t, `^00-`+traceID.String()+`-[0-9a-f]{16}-01$`, seen["/start"])
	require.Regexp(t, `^00-`+traceID.String()+`-[0-9a-f]{16}-01$`, seen["/final"])
	mu.Unlock()

	// Without the loopback allowed, the dialer still refuses it.
	_, err = website.New(website.Config{}, nil, nil).Analyze(ctx, srv.URL+"/start")
	require.Error(t, err)
}
