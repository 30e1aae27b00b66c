package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/graph/sdl"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/conformance"
	"github.com/inkgraph/inkgraph/resolvers"
)

// committedSchema is the schema.graphql at the repository root.
func committedSchema(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../schema.graphql")
	require.NoError(t, err)
	return b
}

// TestCommittedSchemaIsTheRunningOne: schema.graphql is what the server's schema prints
// (go generate writes it; CI's drift check fails when it is stale).
func TestCommittedSchemaIsTheRunningOne(t *testing.T) {
	t.Parallel()
	running := sdl.Print(resolvers.NewSchema(&resolvers.Resolver{}).Schema())
	require.Equal(t, string(running), string(committedSchema(t)), "run go generate ./...")
}

// TestSchemaEndpoint: GET /schema.graphql answers the committed file where
// introspection is on, with an ETag a refetch can be a 304 with; production serves
// neither.
func TestSchemaEndpoint(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite))
	resp, err := http.Get(ts.URL + "/schema.graphql")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, string(committedSchema(t)), string(body))

	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/schema.graphql", nil)
	require.NoError(t, err)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotModified, resp.StatusCode)

	prod := serve(t, newApp(t, testkit.SQLite, func(c *config.Config) { c.Production = true }))
	resp, err = http.Get(prod.URL + "/schema.graphql")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "production hides the schema, as it refuses introspection")
}

// TestSchemaSDLReadByGraphQLJS has graphql-js build a schema from GET /schema.graphql
// and from the server's introspection, and finds them the same.
func TestSchemaSDLReadByGraphQLJS(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite, withoutRateLimits))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := conformance.Node(t, ctx, "schema-sdl.mjs", ts.URL)
	out, err := cmd.Output()
	var stderr string
	if ee, ok := err.(interface{ Stderr() []byte }); ok {
		stderr = string(ee.Stderr())
	}
	require.NoError(t, err, "schema-sdl.mjs: %s", stderr)
	var report struct {
		Status      int    `json:"status"`
		ContentType string `json:"contentType"`
		Types       int    `json:"types"`
		Same        bool   `json:"same"`
		Diff        []any  `json:"diff"`
	}
	require.NoError(t, json.Unmarshal(out, &report), "%s", out)
	require.Equal(t, http.StatusOK, report.Status)
	require.Greater(t, report.Types, 100, "the whole schema")
	require.True(t, report.Same, "SDL and introspection differ: %v", report.Diff)
}
