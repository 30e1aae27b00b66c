package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/api"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// scrape reads the admin listener's /metrics as Prometheus does, and parses it with
// Prometheus's own text parser.
func scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	api.AdminHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	require.NoError(t, err)
	return families
}

// sample returns the metric of family name whose labels include want, or nil.
func sample(families map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := families[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

// counter is the value of a counter series, 0 when it does not exist yet.
func counter(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	if m := sample(families, name, labels); m != nil {
		return m.GetCounter().GetValue()
	}
	return 0
}

// postQuery sends one GraphQL query over HTTP, with the access token when one is
// given, and returns the status.
func postQuery(t *testing.T, url, query string, token ...string) int {
	t.Helper()
	body, err := json.Marshal(map[string]string{"query": query})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url+"/graphql", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if len(token) > 0 {
		req.Header.Set("Authorization", "Bearer "+token[0])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestMetricsAfterRealOperations runs operations through the whole server over HTTP,
// then reads them back from the admin listener's /metrics. Operation names are this
// test's own, so tests running beside it do not change its series; shared series
// (routes, refusals) are compared before and after.
func TestMetricsAfterRealOperations(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	ts := serve(t, a)
	suffix := testkit.RandomHex(6)
	plans, me, limited := "MetricsPlans"+suffix, "MetricsMe"+suffix, "MetricsLimited"+suffix
	probe := "MetricsProbe" + suffix
	token, _, _ := a.register(t, "metrics-"+suffix+"@example.com")
	before := scrape(t)
	graphqlOK := map[string]string{"route": "/graphql", "method": "POST", "status": "200"}
	freeRefusals := map[string]string{"tier": "free", "budget": "operations"}

	// A signed-in caller's successful operation admits its name as a label.
	for range 3 {
		require.Equal(t, http.StatusOK, postQuery(t, ts.URL, `query `+plans+` { plans { tier } }`, token))
	}
	require.Equal(t, http.StatusOK, postQuery(t, ts.URL, `query `+me+` { me { id } }`, token))
	// An operation that fails shows its first error's code, under its name once known.
	require.Equal(t, http.StatusOK, postQuery(t, ts.URL, `query `+me+` { me { id } }`))
	// An anonymous caller's name is never admitted: it counts as "other", so probes
	// cannot use up the names' slots.
	require.Equal(t, http.StatusOK, postQuery(t, ts.URL, `query `+probe+` { plans { tier } }`))
	// The free budget (20 a minute, the clock standing still) runs out: the refusal
	// is counted, under its operation and as a refusal.
	refused := 0
	for range 25 {
		if postQuery(t, ts.URL, `query `+limited+` { plans { tier } }`, token) == http.StatusTooManyRequests {
			refused++
		}
	}
	require.Positive(t, refused)
	resp, err := http.Get(ts.URL + "/no/such/route")
	require.NoError(t, err)
	_ = resp.Body.Close()

	after := scrape(t)
	require.InDelta(t, 3, counter(after, "inkgraph_graphql_operations_total",
		map[string]string{"operation": plans, "type": "query", "code": "OK"}), 0)
	require.InDelta(t, 1, counter(after, "inkgraph_graphql_operations_total",
		map[string]string{"operation": me, "type": "query", "code": "OK"}), 0)
	require.InDelta(t, 1, counter(after, "inkgraph_graphql_operations_total",
		map[string]string{"operation": me, "type": "query", "code": "UNAUTHENTICATED"}), 0)
	require.Nil(t, sample(after, "inkgraph_graphql_operations_total", map[string]string{"operation": probe}),
		"an anonymous caller's name is no label")
	require.InDelta(t, float64(refused), counter(after, "inkgraph_graphql_operations_total",
		map[string]string{"operation": limited, "type": "query", "code": "RATE_LIMITED"}), 0)
	require.InDelta(t, float64(25-refused), counter(after, "inkgraph_graphql_operations_total",
		map[string]string{"operation": limited, "type": "query", "code": "OK"}), 0)

	hist := sample(after, "inkgraph_graphql_operation_duration_seconds", map[string]string{"operation": plans, "type": "query"})
	require.NotNil(t, hist)
	require.Equal(t, uint64(3), hist.GetHistogram().GetSampleCount())

	// Other tests run beside this one: the shared series grew by at least what this
	// test did.
	require.GreaterOrEqual(t, counter(after, "inkgraph_http_requests_total", graphqlOK)-
		counter(before, "inkgraph_http_requests_total", graphqlOK), float64(6+25-refused))
	limitedHTTP := map[string]string{"route": "/graphql", "method": "POST", "status": "429"}
	require.GreaterOrEqual(t, counter(after, "inkgraph_http_requests_total", limitedHTTP)-
		counter(before, "inkgraph_http_requests_total", limitedHTTP), float64(refused))
	unmatched := map[string]string{"route": "unmatched", "method": "GET", "status": "404"}
	require.GreaterOrEqual(t, counter(after, "inkgraph_http_requests_total", unmatched)-
		counter(before, "inkgraph_http_requests_total", unmatched), 1.0)
	require.GreaterOrEqual(t, counter(after, "inkgraph_rate_limit_refusals_total", freeRefusals)-
		counter(before, "inkgraph_rate_limit_refusals_total", freeRefusals), float64(refused))
	require.NotNil(t, sample(after, "inkgraph_http_request_duration_seconds", map[string]string{"route": "/graphql"}))

	// The raw path never becomes a label.
	for _, m := range after["inkgraph_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			require.NotEqual(t, "/no/such/route", l.GetValue())
		}
	}
	// Go runtime and process collectors are on.
	require.Contains(t, after, "go_goroutines")
	require.Contains(t, after, "process_cpu_seconds_total")
}

// TestInvalidRequestsCountAsOneLabel: a document that does not validate has no
// operation a client could name: it counts as "invalid", with its code.
func TestInvalidRequestsCountAsOneLabel(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	ts := serve(t, a)
	invalid := map[string]string{"operation": "invalid", "type": "none", "code": "GRAPHQL_VALIDATION_FAILED"}
	before := counter(scrape(t), "inkgraph_graphql_operations_total", invalid)
	name := "NoSuchField" + testkit.RandomHex(6)
	postQuery(t, ts.URL, `query `+name+` { noSuchField }`)
	after := scrape(t)
	require.GreaterOrEqual(t, counter(after, "inkgraph_graphql_operations_total", invalid)-before, 1.0)
	require.Nil(t, sample(after, "inkgraph_graphql_operations_total", map[string]string{"operation": name}),
		"a name from a document that does not validate is not a label")
}

func TestPublicMetricsOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	for _, public := range []bool{false, true} {
		ts := serve(t, newApp(t, testkit.SQLite, func(c *config.Config) { c.MetricsPublic = public }))
		resp, err := http.Get(ts.URL + "/metrics")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if public {
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Contains(t, string(body), "inkgraph_http_requests_total")
		} else {
			require.Equal(t, http.StatusNotFound, resp.StatusCode, "not public unless asked")
		}
		// The profiler is never public.
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/profile?seconds=1"} {
			resp, err := http.Get(ts.URL + path)
			require.NoError(t, err)
			_ = resp.Body.Close()
			require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		}
	}

	admin := httptest.NewServer(api.AdminHandler())
	t.Cleanup(admin.Close)
	resp, err := http.Get(admin.URL + "/debug/pprof/")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the admin listener has it")
}

func TestHealthzHasTheVersion(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite))
	resp, err := http.Get(ts.URL + "/healthz")
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	var got map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	require.Equal(t, "ok", got["status"])
	require.NotEmpty(t, got["version"])
	require.True(t, strings.HasPrefix(got["goVersion"].(string), "go"), got)
}

// gauge is the value of a gauge series, 0 when it does not exist yet.
func gauge(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	if m := sample(families, name, labels); m != nil {
		return m.GetGauge().GetValue()
	}
	return 0
}

// TestOpenSubscriptionsGauge opens a subscription over SSE and ends it: the gauge
// counts it while it runs. Not parallel: no other test's subscriptions run meanwhile
// (parallel tests start after the sequential ones).
func TestOpenSubscriptionsGauge(t *testing.T) {
	a := newApp(t, testkit.SQLite)
	ts := serve(t, a)
	access, _, _ := a.register(t, "gauge@example.com")
	labels := map[string]string{"transport": "sse", "field": "accountEvents"}
	open := func() float64 { return gauge(scrape(t), "inkgraph_subscriptions_open", labels) }
	before := open()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	subscribeSSE(t, ctx, ts.URL, access, `subscription { accountEvents { type } }`)
	require.Eventually(t, func() bool { return open() == before+1 }, 10*time.Second, 10*time.Millisecond,
		"the running subscription is counted")
	cancel()
	require.Eventually(t, func() bool { return open() == before }, 10*time.Second, 10*time.Millisecond,
		"an ended subscription is not")
}
