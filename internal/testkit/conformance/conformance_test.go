package conformance_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit/conformance"
)

func TestNodeDir(t *testing.T) {
	t.Parallel()
	dir := conformance.NodeDir(t)
	require.True(t, filepath.IsAbs(dir))
	for _, name := range []string{"package.json", "audit.mjs", filepath.Join("node_modules", "graphql-http")} {
		_, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
	}
}

// Node runs scripts from the conformance folder; audit.mjs without a URL prints its usage
// and exits 2.
func TestNodeRunsScriptsFromTheFolder(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	cmd := conformance.Node(t, t.Context(), "audit.mjs")
	cmd.Stderr = &stderr
	err := cmd.Run()

	var exitErr *exec.ExitError
	require.True(t, errors.As(err, &exitErr), "want an exit error, got %v", err)
	require.Equal(t, 2, exitErr.ExitCode())
	require.Contains(t, stderr.String(), "usage: node audit.mjs")
	require.Equal(t, conformance.NodeDir(t), cmd.Dir)
}

// A server that answers 404 to everything fails most audits (a 404 happens to satisfy the
// few that only want a 4xx): the report counts every result and explains each failure.
func TestRunAuditReportsFailures(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no GraphQL here", http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)

	report := conformance.RunAudit(t, srv.URL)
	require.NotEmpty(t, report.Results)
	require.Positive(t, report.Error)
	require.Positive(t, report.Warn)
	require.Equal(t, len(report.Results), report.OK+report.Notice+report.Warn+report.Error)
	failed := report.Failed()
	require.Len(t, failed, len(report.Results)-report.OK)
	for _, r := range failed {
		require.NotEmpty(t, r.ID)
		require.NotEmpty(t, r.Name)
		require.NotEmpty(t, r.Reason, r.ID)
	}
}
