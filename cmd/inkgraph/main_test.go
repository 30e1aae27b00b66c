package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

func TestMigrateCommands(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{"DATABASE_URL": testkit.DatabaseURL(t, d)}
			getenv := func(k string) string { return vars[k] }
			ctx := context.Background()
			cmd := func(args ...string) string {
				var out bytes.Buffer
				require.NoError(t, run(ctx, args, getenv, &out))
				return out.String()
			}
			require.Contains(t, cmd("migrate", "status"), "pending")
			require.Contains(t, cmd("migrate", "up"), "applied 20261121000001_accounts")
			require.Contains(t, cmd("migrate", "up"), "nothing to apply")
			require.NotContains(t, cmd("migrate", "status"), "pending")
			require.Contains(t, cmd("migrate", "down"), "rolled back 20261121000001_accounts")
			require.Contains(t, cmd("migrate", "status"), "pending")

			err := run(ctx, []string{"migrate", "sideways"}, getenv, &bytes.Buffer{})
			require.ErrorContains(t, err, "unknown migrate command")
		})
	}
}

func TestServeAndShutDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	dir := t.TempDir()
	vars := map[string]string{"INKGRAPH_BCRYPT_COST": "4"}
	ctx, cancel := context.WithCancel(context.Background())
	var logs testkit.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", addr, "--data-dir", dir}, func(k string) string { return vars[k] }, &logs)
	}()

	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond, "embedded mode migrates at start and becomes ready")
	require.FileExists(t, filepath.Join(dir, "inkgraph.db"))
	require.FileExists(t, filepath.Join(dir, "secrets", "jwt.key"))

	resp, err := http.Post("http://"+addr+"/graphql", "application/json", strings.NewReader(`{"query":"{ plans { tier } }"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "SIGTERM (context cancel) shuts down cleanly")
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return after cancel")
	}
	out := logs.String()
	require.Contains(t, out, `"msg":"generated a secret for embedded mode`)
	require.Contains(t, out, `"msg":"http request"`)
	require.Contains(t, out, `"request_id"`)
	require.Contains(t, out, `"msg":"shutting down"`)
}

func TestProductionRefusesGeneratedSecrets(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"INKGRAPH_ENV": "production", "INKGRAPH_DATA_DIR": t.TempDir()}
	err := run(context.Background(), nil, func(k string) string { return vars[k] }, &bytes.Buffer{})
	require.ErrorContains(t, err, "INKGRAPH_JWT_SECRET")
}

func TestEmbeddedDatabaseIsPrivate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := map[string]string{"INKGRAPH_DATA_DIR": dir}
	require.NoError(t, run(context.Background(), []string{"migrate", "up"}, func(k string) string { return vars[k] }, &bytes.Buffer{}))
	info, err := os.Stat(filepath.Join(dir, "inkgraph.db"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "it holds password hashes")
}
