package config_test

import (
	"encoding/base64"
	"io"
	"log/slog"
	"net/netip"
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
	require.ErrorContains(t, err, "INKGRAPH_KEYRING")
	ring := "1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("r", 32)))
	_, err = config.Load(nil, env(map[string]string{
		"INKGRAPH_ENV": "production", "INKGRAPH_JWT_SECRET": strings.Repeat("k", 32), "INKGRAPH_KEYRING": ring,
	}), io.Discard)
	require.ErrorContains(t, err, "INKGRAPH_BACKUP_SIGNING_KEY", "the local backup store signs URLs with it")
	c, err := config.Load(nil, env(map[string]string{
		"INKGRAPH_ENV": "production", "INKGRAPH_JWT_SECRET": strings.Repeat("k", 32), "INKGRAPH_KEYRING": ring,
		"INKGRAPH_BACKUP_SIGNING_KEY": strings.Repeat("b", 32),
	}), io.Discard)
	require.NoError(t, err)
	require.True(t, c.Production)
	require.NoError(t, c.EnsureSecrets(slog.New(slog.DiscardHandler)))
	require.Empty(t, c.KeyringFile, "a configured ring is never replaced by a generated one")
}

func TestOnboardingSettings(t *testing.T) {
	t.Parallel()
	c, err := config.Load(nil, env(map[string]string{
		"INKGRAPH_FETCH_ALLOW":        "127.0.0.1, 10.0.0.0/8",
		"INKGRAPH_PROVIDER_BASE_URLS": "OpenAI=http://127.0.0.1:9000/v1, tavily=https://proxy.example",
		"INKGRAPH_LIVE_KEY_CHECK":     "true",
	}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}, c.FetchAllow)
	require.Equal(t, map[string]string{"openai": "http://127.0.0.1:9000/v1", "tavily": "https://proxy.example"}, c.ProviderBaseURLs)
	require.True(t, c.LiveKeyCheck)
	require.Equal(t, int64(2<<20), c.FetchMaxBytes)

	_, err = config.Load(nil, env(map[string]string{
		"INKGRAPH_FETCH_ALLOW":        "localhost",
		"INKGRAPH_PROVIDER_BASE_URLS": "openai",
		"INKGRAPH_LLM_BASE_URL":       "ftp://x",
		"INKGRAPH_KEYRING":            "1:c2hvcnQ=",
	}), io.Discard)
	for _, name := range []string{"INKGRAPH_FETCH_ALLOW", "INKGRAPH_PROVIDER_BASE_URLS", "INKGRAPH_LLM_BASE_URL", "INKGRAPH_KEYRING"} {
		require.ErrorContains(t, err, name)
	}
	require.NotContains(t, err.Error(), "c2hvcnQ", "a bad key ring is never echoed")
}

func TestEmbeddedKeyringIsGeneratedOnceAndExtended(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	load := func() config.Config {
		c, err := config.Load([]string{"--data-dir", dir}, env(nil), io.Discard)
		require.NoError(t, err)
		require.NoError(t, c.EnsureSecrets(slog.New(slog.DiscardHandler)))
		return c
	}
	c := load()
	path := filepath.Join(dir, "secrets", "keyring")
	require.Equal(t, path, c.KeyringFile)
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	require.Equal(t, c.Keyring, load().Keyring, "read back, not generated again")

	v, err := c.AddKeyringVersion()
	require.NoError(t, err)
	require.Equal(t, 2, v)
	again := load()
	require.Equal(t, c.Keyring, again.Keyring)
	require.True(t, strings.HasPrefix(again.Keyring, strings.SplitN(load().Keyring, ",", 2)[0]), "version 1 is kept")
	require.Equal(t, 2, strings.Count(again.Keyring, ":"))
	info, err = os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	fromEnv, err := config.Load([]string{"--data-dir", t.TempDir()}, env(map[string]string{"INKGRAPH_KEYRING": c.Keyring}), io.Discard)
	require.NoError(t, err)
	require.NoError(t, fromEnv.EnsureSecrets(slog.New(slog.DiscardHandler)))
	_, err = fromEnv.AddKeyringVersion()
	require.ErrorContains(t, err, "INKGRAPH_KEYRING", "an operator's ring is the operator's to extend")
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

func TestBackupSettings(t *testing.T) {
	t.Parallel()
	c, err := config.Load([]string{"--data-dir", "/srv/ink"}, env(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, config.BackupStoreLocal, c.BackupStore)
	require.Equal(t, filepath.Join("/srv/ink", "backups"), c.BackupDir)
	require.Equal(t, 15*time.Minute, c.BackupURLTTL)
	require.Equal(t, time.Hour, c.BackupPendingTimeout)
	require.Equal(t, "us-east-1", c.S3Region)

	c, err = config.Load(nil, env(map[string]string{
		"INKGRAPH_BACKUP_STORE": "s3", "S3_BUCKET": "backups", "S3_ENDPOINT": "http://127.0.0.1:7070", "S3_PATH_STYLE": "true",
		"S3_ACCESS_KEY_ID": "id", "S3_SECRET_ACCESS_KEY": "secret",
	}), io.Discard)
	require.NoError(t, err)
	require.True(t, c.S3PathStyle)

	_, err = config.Load(nil, env(map[string]string{
		"INKGRAPH_BACKUP_STORE": "s3", "S3_ENDPOINT": "minio:9000", "S3_ACCESS_KEY_ID": "id",
		"INKGRAPH_BACKUP_URL_TTL": "2h", "INKGRAPH_BACKUP_SIGNING_KEY": "short",
	}), io.Discard)
	for _, name := range []string{"S3_BUCKET", "S3_ENDPOINT", "S3_SECRET_ACCESS_KEY", "INKGRAPH_BACKUP_PENDING_TIMEOUT", "INKGRAPH_BACKUP_SIGNING_KEY"} {
		require.ErrorContains(t, err, name)
	}
	_, err = config.Load(nil, env(map[string]string{"INKGRAPH_BACKUP_STORE": "ftp"}), io.Discard)
	require.ErrorContains(t, err, "INKGRAPH_BACKUP_STORE")

	// Embedded mode generates the signing key once; with S3 there is none to make.
	dir := t.TempDir()
	c, err = config.Load([]string{"--data-dir", dir}, env(nil), io.Discard)
	require.NoError(t, err)
	require.NoError(t, c.EnsureSecrets(slog.New(slog.DiscardHandler)))
	require.Len(t, c.BackupSigningKey, 32)
	info, err := os.Stat(filepath.Join(dir, "secrets", "backup.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	c, err = config.Load([]string{"--data-dir", t.TempDir()}, env(map[string]string{"INKGRAPH_BACKUP_STORE": "s3", "S3_BUCKET": "b"}), io.Discard)
	require.NoError(t, err)
	require.NoError(t, c.EnsureSecrets(slog.New(slog.DiscardHandler)))
	require.Empty(t, c.BackupSigningKey)
}
