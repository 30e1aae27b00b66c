package httptransport_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit/conformance"
)

// TestGraphQLOverHTTPAudit runs the graphql-http server audit suite (node) against the
// transports: every audit must pass, with no warning.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	t.Parallel()
	// Wrapped like the real server, so the audit sees the body limit in place.
	srv := httptest.NewServer(http.MaxBytesHandler(newHandler(), 1<<20))
	t.Cleanup(srv.Close)

	report := conformance.RunAudit(t, srv.URL+"/graphql")
	t.Logf("graphql-http audit: ok=%d notice=%d warn=%d error=%d", report.OK, report.Notice, report.Warn, report.Error)
	for _, r := range report.Failed() {
		t.Logf("%s %s [%s]: %s", r.Status, r.ID, r.Name, r.Reason)
	}
	require.Zero(t, report.Warn, "warnings")
	require.Zero(t, report.Error, "errors")
	require.Equal(t, len(report.Results), report.OK, "every audit should pass")
}
