package config_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.Load(nil, env(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, ":8080", c.Addr)
	require.Equal(t, "./data", c.DataDir)
	require.False(t, c.Production)
	require.True(t, c.AutoMigrate, "embedded mode migrates at start")
	require.Equal(t, 15*time.Minute, c.AccessTokenTTL)
	require.Equal(t, 12, c.BcryptCost)
	require.Empty(t, c.JWTSecret)
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	t.Parallel()
	c, err := config.Load([]string{"--addr", "127.0.0.1:9000", "--data-dir", "/tmp/x"},
		env(map[string]string{"INKGRAPH_ADDR": ":7000", "DATABASE_URL": "postgres://u@h/db", "INKGRAPH_BCRYPT_COST": "10"}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9000", c.Addr)
	require.Equal(t, "/tmp/x", c.DataDir)
	require.Equal(t, 10, c.BcryptCost)
	require.False(t, c.AutoMigrate, "with PostgreSQL, migrations are an explicit step")
}

func TestBadValuesAreReportedTogether(t *testing.T) {
	t.Parallel()
	_, err := config.Load(nil, env(map[string]string{
		"INKGRAPH_BCRYPT_COST":      "99",
		"INKGRAPH_ACCESS_TOKEN_TTL": "soon",
		"INKGRAPH_JWT_SECRET":       "short",
		"INKGRAPH_ENV":              "staging",
	}), io.Discard)
	require.Error(t, err)
	for _, name := range []string{"INKGRAPH_BCRYPT_COST", "INKGRAPH_ACCESS_TOKEN_TTL", "INKGRAPH_JWT_SECRET", "INKGRAPH_ENV"} {
		require.Contains(t, err.Error(), name)
	}
}

func TestProductionNeedsRealSecrets(t *testing.T) {
	t.Parallel()
	_, err := config.Load(nil, env(map[string]string{"INKGRAPH_ENV": "production"}), io.Discard)
	require.ErrorContains(t, err, "INKGRAPH_JWT_SECRET")
	c, err := config.Load(nil, env(map[string]string{"INKGRAPH_ENV": "production", "INKGRAPH_JWT_SECRET": strings.Repeat("k", 32)}), io.Discard)
	require.NoError(t, err)
	require.True(t, c.Production)
}

func TestEmbeddedSecretIsGeneratedOnceWithMode0600(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, err := config.Load([]string{"--data-dir", dir}, env(nil), io.Discard)
	require.NoError(t, err)
	require.NoError(t, c.EnsureSecrets(slog.New(slog.DiscardHandler)))
	require.Len(t, c.JWTSecret, 32)
	info, err := os.Stat(filepath.Join(dir, "secrets", "jwt.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	again, err := config.Load([]string{"--data-dir", dir}, env(nil), io.Discard)
	require.NoError(t, err)
	require.NoError(t, again.EnsureSecrets(slog.New(slog.DiscardHandler)))
	require.Equal(t, c.JWTSecret, again.JWTSecret, "a restart keeps the key, so tokens stay valid")
}

// TestREADMEListsEveryVariable keeps README.md's configuration table true.
func TestREADMEListsEveryVariable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../../README.md")
	require.NoError(t, err)
	for _, v := range config.Vars() {
		row := "| `" + v.Name + "`"
		i := strings.Index(string(readme), row)
		require.GreaterOrEqual(t, i, 0, "README.md has no row for %s", v.Name)
		line := string(readme[i:])
		line = line[:strings.IndexByte(line, '\n')]
		if v.Default != "" {
			require.Contains(t, line, v.Default, "README.md's default for %s", v.Name)
		}
	}
}
