package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/jaeger"
)

// The command exports the spans of a request over OTLP when the standard variables
// ask for it, and flushes them before it returns: the trace is in Jaeger as soon as
// run has returned, under the configured service name.
//
// Not parallel: the OpenTelemetry SDK reads its endpoint from the process environment.
func TestServeExportsTraces(t *testing.T) {
	srv := jaeger.Start(t)
	service := "inkgraph-test-" + testkit.RandomHex(4)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.OTLPHTTP)
	t.Setenv("OTEL_SERVICE_NAME", service)
	// The SDK's batcher would wait 5 s; only the shutdown's flush can deliver in time.
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "60000")

	vars := map[string]string{
		"INKGRAPH_DATA_DIR": t.TempDir(), "INKGRAPH_BCRYPT_COST": "4",
		"OTEL_EXPORTER_OTLP_ENDPOINT": srv.OTLPHTTP, "OTEL_SERVICE_NAME": service,
		"INKGRAPH_ADMIN_ADDR": "off",
	}
	var logs testkit.SyncBuffer
	s := startServe(t, nil, vars, &logs)

	traceID := testkit.RandomHex(16)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+s.addr+"/graphql",
		strings.NewReader(`{"query":"mutation { register(input: {email: \"trace@example.com\", password: \"password1\"}) { user { id } } }"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-"+testkit.RandomHex(8)+"-01")
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotContains(t, string(body), `"errors"`)

	require.NoError(t, s.shutdown(t))
	require.NotContains(t, logs.String(), `"msg":"admin listener"`, "INKGRAPH_ADMIN_ADDR=off: none")
	spans, err := srv.Trace(context.Background(), traceID)
	require.NoError(t, err)
	require.NotEmpty(t, spans, "the request's spans were flushed at shutdown\n%s\n%s", logs.String(), srv.Logs())
	var sql int
	for _, span := range spans {
		t.Logf("span %s (%s)", span.Name, span.Kind())
		require.Equal(t, service, span.Service, "OTEL_SERVICE_NAME names the service")
		if span.Tags["db.system.name"] != nil {
			sql++
		}
	}
	require.NotZero(t, sql, "SQL statements have spans of their own (database.Traced)")
}
