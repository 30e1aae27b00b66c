package config_test

import (
	"encoding/base64"
	"flag"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.Load(nil, env(nil))
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
		env(map[string]string{"INKGRAPH_ADDR": ":7000", "DATABASE_URL": "postgres://u@h/db", "INKGRAPH_BCRYPT_COST": "10"}))

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
	}))

	require.Error(t, err)
	for _, name := range []string{"INKGRAPH_BCRYPT_COST", "INKGRAPH_ACCESS_TOKEN_TTL", "INKGRAPH_JWT_SECRET", "INKGRAPH_ENV"} {
		require.Contains(t, err.Error(), name)
	}
}

func TestProductionNeedsRealSecrets(t *testing.T) {
	t.Parallel()
	_, err := config.Load(nil, env(map[string]string{"INKGRAPH_ENV": "production"}))
	require.ErrorContains(t, err, "INKGRAPH_JWT_SECRET")
	require.ErrorContains(t, err, "INKGRAPH_KEYRING")
	ring := "1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("r", 32)))
	_, err = config.Load(nil, env(map[string]string{
		"INKGRAPH_ENV": "production", "INKGRAPH_JWT_SECRET": strings.Repeat("k", 32), "INKGRAPH_KEYRING": ring,
	}))

	require.ErrorContains(t, err, "INKGRAPH_BACKUP_SIGNING_KEY", "the local backup store signs URLs with it")
	c, err := config.Load(nil, env(map[string]string{
		"INKGRAPH_ENV": "production", "INKGRAPH_JWT_SECRET": strings.Repeat("k", 32), "INKGRAPH_KEYRING": ring,
		"INKGRAPH_BACKUP_SIGNING_KEY": strings.Repeat("b", 32),
	}))

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
	}))

	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}, c.FetchAllow)
	require.Equal(t, map[string]string{"openai": "http://127.0.0.1:9000", "tavily": "https://proxy.example"}, c.ProviderBaseURLs)
	require.True(t, c.LiveKeyCheck)
	require.Equal(t, int64(2<<20), c.FetchMaxBytes)

	_, err = config.Load(nil, env(map[string]string{
		"INKGRAPH_FETCH_ALLOW":        "localhost",
		"INKGRAPH_PROVIDER_BASE_URLS": "openai",
		"INKGRAPH_LLM_BASE_URL":       "ftp://x",
		"INKGRAPH_KEYRING":            "1:c2hvcnQ=",
	}))

	for _, name := range []string{"INKGRAPH_FETCH_ALLOW", "INKGRAPH_PROVIDER_BASE_URLS", "INKGRAPH_LLM_BASE_URL", "INKGRAPH_KEYRING"} {
		require.ErrorContains(t, err, name)
	}
	require.NotContains(t, err.Error(), "c2hvcnQ", "a bad key ring is never echoed")
}

func TestEmbeddedKeyringIsGeneratedOnceAndExtended(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	load := func() config.Config {
		c, err := config.Load([]string{"--data-dir", dir}, env(nil))
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

	fromEnv, err := config.Load([]string{"--data-dir", t.TempDir()}, env(map[string]string{"INKGRAPH_KEYRING": c.Keyring}))
	require.NoError(t, err)
	require.NoError(t, fromEnv.EnsureSecrets(slog.New(slog.DiscardHandler)))
	_, err = fromEnv.AddKeyringVersion()
	require.ErrorContains(t, err, "INKGRAPH_KEYRING", "an operator's ring is the operator's to extend")
}

func TestEmbeddedSecretIsGeneratedOnceWithMode0600(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, err := config.Load([]string{"--data-dir", dir}, env(nil))
	require.NoError(t, err)
	require.NoError(t, c.EnsureSecrets(slog.New(slog.DiscardHandler)))
	require.Len(t, c.JWTSecret, 32)
	info, err := os.Stat(filepath.Join(dir, "secrets", "jwt.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	again, err := config.Load([]string{"--data-dir", dir}, env(nil))
	require.NoError(t, err)
	require.NoError(t, again.EnsureSecrets(slog.New(slog.DiscardHandler)))
	require.Equal(t, c.JWTSecret, again.JWTSecret, "a restart keeps the key, so tokens stay valid")
}

// TestREADMETableIsVars holds README.md's configuration table to Vars, both ways:
// every variable has its row (name, flag, default and meaning as Vars says), and
// every row of the table is a variable Vars lists. The command's help is written from
// Vars too, so the two cannot differ.
func TestREADMETableIsVars(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "\n## Configuration\n")
	require.True(t, ok, "README.md has a Configuration section")
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]string{} // variable: its row
	for line := range strings.SplitSeq(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
		require.NotContains(t, rows, name, "README.md lists %s twice", name)
		rows[name] = line
	}
	vars := map[string]bool{}
	for _, v := range config.Vars() {
		require.False(t, vars[v.Name], "Vars lists %s twice", v.Name)
		vars[v.Name] = true
		row, ok := rows[v.Name]
		if !assert.True(t, ok, "README.md's configuration table has no row for %s; add:\n%s", v.Name, config.MarkdownRow(v)) {
			continue
		}
		assert.Equal(t, config.MarkdownRow(v), row, "README.md's row for %s differs from Vars", v.Name)
	}
	for name := range rows {
		assert.True(t, vars[name], "README.md's configuration table lists %s, which config.Vars does not", name)
	}
}

// The help lists every variable with its flag and default.
func TestSettingsHelpListsEveryVariable(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	require.NoError(t, config.WriteSettings(&b))
	help := b.String()
	for _, v := range config.Vars() {
		i := strings.Index(help, "\n  "+v.Name+"\n")
		if v.Flag != "" {
			i = strings.Index(help, "\n  "+v.Name+", --"+v.Flag+"\n")
		}
		require.GreaterOrEqual(t, i, 0, "the help lists %s (with its flag)", v.Name)
		def := v.Default
		if def == "" {
			def = "(empty)"
		}
		require.Contains(t, help[i:], "\n      default: "+def+"\n", v.Name)
	}
	for line := range strings.SplitSeq(help, "\n") {
		require.LessOrEqual(t, len(line), 100, "wrapped for a terminal: %q", line)
	}
}

func TestBackupSettings(t *testing.T) {
	t.Parallel()
	c, err := config.Load([]string{"--data-dir", "/srv/ink"}, env(nil))
	require.NoError(t, err)
	require.Equal(t, config.BackupStoreLocal, c.BackupStore)
	require.Equal(t, filepath.Join("/srv/ink", "backups"), c.BackupDir)
	require.Equal(t, 15*time.Minute, c.BackupURLTTL)
	require.Equal(t, time.Hour, c.BackupPendingTimeout)
	require.Equal(t, "us-east-1", c.S3Region)

	c, err = config.Load(nil, env(map[string]string{
		"INKGRAPH_BACKUP_STORE": "s3", "S3_BUCKET": "backups", "S3_ENDPOINT": "http://127.0.0.1:7070", "S3_PATH_STYLE": "true",
		"S3_ACCESS_KEY_ID": "id", "S3_SECRET_ACCESS_KEY": "secret",
	}))

	require.NoError(t, err)
	require.True(t, c.S3PathStyle)

	_, err = config.Load(nil, env(map[string]string{
		"INKGRAPH_BACKUP_STORE": "s3", "S3_ENDPOINT": "minio:9000", "S3_ACCESS_KEY_ID": "id",
		"INKGRAPH_BACKUP_URL_TTL": "2h", "INKGRAPH_BACKUP_SIGNING_KEY": "short",
	}))

	for _, name := range []string{"S3_BUCKET", "S3_ENDPOINT", "S3_SECRET_ACCESS_KEY", "INKGRAPH_BACKUP_PENDING_TIMEOUT", "INKGRAPH_BACKUP_SIGNING_KEY"} {
		require.ErrorContains(t, err, name)
	}
	_, err = config.Load(nil, env(map[string]string{"INKGRAPH_BACKUP_STORE": "ftp"}))
	require.ErrorContains(t, err, "INKGRAPH_BACKUP_STORE")

	// Embedded mode generates the signing key once; with S3 there is none to make.
	dir := t.TempDir()
	c, err = config.Load([]string{"--data-dir", dir}, env(nil))
	require.NoError(t, err)
	require.NoError(t, c.EnsureSecrets(slog.New(slog.DiscardHandler)))
	require.Len(t, c.BackupSigningKey, 32)
	info, err := os.Stat(filepath.Join(dir, "secrets", "backup.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	c, err = config.Load([]string{"--data-dir", t.TempDir()}, env(map[string]string{"INKGRAPH_BACKUP_STORE": "s3", "S3_BUCKET": "b"}))
	require.NoError(t, err)
	require.NoError(t, c.EnsureSecrets(slog.New(slog.DiscardHandler)))
	require.Empty(t, c.BackupSigningKey)
}

// Whatever would fail only once the server runs is refused by Load, naming the
// variable, and nothing is written or bound to find out.
func TestLoadRefusesWhatWouldFailLate(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	for _, tc := range []struct {
		vars map[string]string
		name string // the variable the error names
		want string // and what it says
	}{
		{map[string]string{"INKGRAPH_ADDR": "bad"}, "INKGRAPH_ADDR", "want host:port"},
		{map[string]string{"INKGRAPH_REFRESH_REUSE_GRACE": "-1s"}, "INKGRAPH_REFRESH_REUSE_GRACE", "positive duration"},
		{map[string]string{"INKGRAPH_ADDR": ":99999"}, "INKGRAPH_ADDR", "port number from 0 to 65535"},
		{map[string]string{"INKGRAPH_ADDR": ":http"}, "INKGRAPH_ADDR", "port number"},
		{map[string]string{"INKGRAPH_ADDR": "exa mple.com:80"}, "INKGRAPH_ADDR", "IP address or host name"},
		{map[string]string{"INKGRAPH_ADMIN_ADDR": "localhost"}, "INKGRAPH_ADMIN_ADDR", "want host:port"},
		{map[string]string{"INKGRAPH_ADMIN_ADDR": ":8080"}, "INKGRAPH_ADMIN_ADDR", "share its port with INKGRAPH_ADDR"},
		{map[string]string{"INKGRAPH_ADDR": "127.0.0.1:9090"}, "INKGRAPH_ADMIN_ADDR", "share its port"},
		{map[string]string{"DATABASE_URL": "mysql://root:hunter2@db/ink"}, "DATABASE_URL", `unsupported scheme "mysql": want postgres://… or sqlite:PATH`},
		{map[string]string{"DATABASE_URL": "./inkgraph.db"}, "DATABASE_URL", "no scheme"},
		{map[string]string{"DATABASE_URL": "host=db user=app password=hunter2:x"}, "DATABASE_URL", "no scheme"},
		{map[string]string{"DATABASE_URL": "postgres://u:hunter2@db:port/ink"}, "DATABASE_URL", "not a usable PostgreSQL URL"},
		{map[string]string{"DATABASE_URL": "postgres://u:hunter2@db/ink?sslmode=maybe"}, "DATABASE_URL", "sslmode"},
		{map[string]string{"DATABASE_URL": "postgres://u:hunter2@db/ink?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"}, "DATABASE_URL", "unable to read CA file"},
		{map[string]string{"DATABASE_URL": "postgres://db/ink", "INKGRAPH_EVENTS_DATABASE_URL": "redis://x"}, "INKGRAPH_EVENTS_DATABASE_URL", "unsupported scheme"},
		{map[string]string{"INKGRAPH_DATA_DIR": file}, "INKGRAPH_DATA_DIR", "not a directory"},
		{map[string]string{"INKGRAPH_BACKUP_DIR": file}, "INKGRAPH_BACKUP_DIR", "not a directory"},
		{map[string]string{"REDIS_URL": "redis://:hunter2@cache:6379/db-two"}, "REDIS_URL", "not a usable Redis URL"},
		{map[string]string{"INKGRAPH_KEYRING": "1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("r", 32))), "INKGRAPH_KEYRING_CURRENT": "2"},
			"INKGRAPH_KEYRING_CURRENT", "version 2 is not in INKGRAPH_KEYRING"},
		{map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL", "want http/protobuf or grpc"},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "thrift"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "want http/protobuf or grpc"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT", "http(s) URL"},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://c/v1/traces"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http(s) URL"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER", "want otlp or none"},
		{map[string]string{"OTEL_SDK_DISABLED": "yes"}, "OTEL_SDK_DISABLED", "true or false"},
	} {
		_, err := config.Load(nil, env(tc.vars))
		require.ErrorContains(t, err, tc.name+": ", tc.vars)
		require.ErrorContains(t, err, tc.want, tc.vars)
		require.NotContains(t, err.Error(), "hunter2", "a password is never echoed")
	}
}

func TestListenAndDatabaseSettings(t *testing.T) {
	t.Parallel()
	c, err := config.Load([]string{"--admin-addr", "off", "--database-url", "file:/srv/ink.db"},
		env(map[string]string{"INKGRAPH_ADDR": "[::1]:0", "INKGRAPH_DATA_DIR": t.TempDir()}))

	require.NoError(t, err)
	require.Equal(t, "[::1]:0", c.Addr)
	require.Empty(t, c.AdminAddr, "off: no admin listener")
	require.Equal(t, "sqlite:/srv/ink.db", c.Database.URL, "file: is SQLite's own form of a path")
	require.False(t, c.Database.NoPreparedStatements, "prepared statements by default")

	c, err = config.Load(nil, env(map[string]string{"INKGRAPH_DATA_DIR": t.TempDir(), "INKGRAPH_DB_PREPARED_STATEMENTS": "false"}))
	require.NoError(t, err)
	require.True(t, c.Database.NoPreparedStatements, "behind a pooler that loses them")
	_, err = config.Load(nil, env(map[string]string{"INKGRAPH_DATA_DIR": t.TempDir(), "INKGRAPH_DB_PREPARED_STATEMENTS": "sometimes"}))
	require.ErrorContains(t, err, "INKGRAPH_DB_PREPARED_STATEMENTS")

	for _, ok := range []map[string]string{
		{"INKGRAPH_ADDR": "localhost:8080", "INKGRAPH_ADMIN_ADDR": "127.0.0.1:0"},
		{"INKGRAPH_ADDR": "127.0.0.1:0", "INKGRAPH_ADMIN_ADDR": "127.0.0.1:0"},
		{"INKGRAPH_ADDR": "10.0.0.1:9090", "INKGRAPH_ADMIN_ADDR": "127.0.0.1:9090"},
		{"DATABASE_URL": "postgresql://u@db:5432/ink?sslmode=disable", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_TRACES_EXPORTER": "none", "OTEL_SDK_DISABLED": "false"},
		{"DATABASE_URL": "sqlite:/srv/ink.db"},
	} {
		_, err := config.Load(nil, env(ok))
		require.NoError(t, err, ok)
	}

	_, err = config.Load([]string{"--help"}, env(nil))
	require.ErrorIs(t, err, flag.ErrHelp)
}

func TestPostgreSQLNeedsSharedSecretsBeforeAnythingIsRead(t *testing.T) {
	t.Parallel()
	c, err := config.Load(nil, env(map[string]string{"DATABASE_URL": "postgres://db/ink", "INKGRAPH_JWT_SECRET": strings.Repeat("j", 32)}))
	require.NoError(t, err, "migrate needs no secrets")
	require.EqualError(t, c.CheckSharedSecrets(),
		"INKGRAPH_KEYRING and INKGRAPH_BACKUP_SIGNING_KEY must be set with PostgreSQL: instances sharing a database must share secrets")
	c, err = config.Load(nil, env(nil))
	require.NoError(t, err)
	require.NoError(t, c.CheckSharedSecrets(), "embedded mode generates its own")
}

func TestRefreshReuseGrace(t *testing.T) {
	t.Parallel()
	c, err := config.Load(nil, env(nil))
	require.NoError(t, err)
	require.Equal(t, 2*time.Second, c.RefreshReuseGrace, "the documented default")
	c, err = config.Load(nil, env(map[string]string{"INKGRAPH_REFRESH_REUSE_GRACE": "5s"}))
	require.NoError(t, err)
	require.Equal(t, 5*time.Second, c.RefreshReuseGrace)
}

// The local store's signed URLs point at the server whatever address it listens on.
func TestBackupBaseURLFollowsTheListener(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"":               "http://localhost:8080",
		":9000":          "http://localhost:9000",
		"0.0.0.0:9001":   "http://localhost:9001",
		"[::]:9002":      "http://localhost:9002",
		"127.0.0.1:9003": "http://127.0.0.1:9003",
		"[::1]:9004":     "http://[::1]:9004",
		"127.0.0.1:0":    "http://127.0.0.1:8080",
	} {
		c, err := config.Load(nil, env(map[string]string{"INKGRAPH_ADDR": addr}))
		require.NoError(t, err, addr)
		require.Equal(t, want, c.BackupBaseURL, "INKGRAPH_ADDR=%q", addr)
	}
	c, err := config.Load(nil, env(map[string]string{"INKGRAPH_ADDR": ":9000", "INKGRAPH_BACKUP_BASE_URL": "https://api.example.com/"}))
	require.NoError(t, err)
	require.Equal(t, "https://api.example.com", c.BackupBaseURL, "set: taken as given")
}

// Provider origins are written either way: with the /v1 INKGRAPH_LLM_BASE_URL has, or
// without; callers add their own path, so /v1 is dropped (it once made /v1/v1/…).
func TestProviderBaseURLsAreOrigins(t *testing.T) {
	t.Parallel()
	c, err := config.Load(nil, env(map[string]string{
		"INKGRAPH_PROVIDER_BASE_URLS": "openai=http://127.0.0.1:9000/v1/, Anthropic=https://proxy.example.com/",
	}))

	require.NoError(t, err)
	require.Equal(t, map[string]string{"openai": "http://127.0.0.1:9000", "anthropic": "https://proxy.example.com"}, c.ProviderBaseURLs)
}

func TestOIDCIssuersMustBeHTTPS(t *testing.T) {
	t.Parallel()
	c, err := config.Load(nil, env(map[string]string{
		"INKGRAPH_OIDC_PROVIDERS": "https://accounts.google.com=g, http://localhost:8080/=l, http://127.0.0.1:9000=v4, http://[::1]:9000/=v6",
	}))
	require.NoError(t, err)
	require.Equal(t, []config.OIDCProvider{
		{Issuer: "https://accounts.google.com", Audience: "g"}, {Issuer: "http://localhost:8080/", Audience: "l"},
		{Issuer: "http://127.0.0.1:9000", Audience: "v4"}, {Issuer: "http://[::1]:9000/", Audience: "v6"},
	}, c.OIDCProviders)

	for _, issuer := range []string{"http://idp.example.com/", "http://10.0.0.5:9000", "http://localhost.evil.com"} {
		_, err := config.Load(nil, env(map[string]string{"INKGRAPH_OIDC_PROVIDERS": issuer + "=web"}))
		require.ErrorContains(t, err, "INKGRAPH_OIDC_PROVIDERS", issuer)
		require.ErrorContains(t, err, "must be an https URL", issuer)
	}
}

// TestChatResumeGrace: 0 turns resuming off; any other value is a positive duration.
func TestChatResumeGrace(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]time.Duration{"": 30 * time.Second, "0": 0, "0s": 0, "45s": 45 * time.Second} {
		c, err := config.Load(nil, env(map[string]string{"INKGRAPH_CHAT_RESUME_GRACE": v}))
		require.NoError(t, err, v)
		require.Equal(t, want, c.ChatResumeGrace, v)
	}
	_, err := config.Load(nil, env(map[string]string{"INKGRAPH_CHAT_RESUME_GRACE": "-1s"}))
	require.ErrorContains(t, err, "INKGRAPH_CHAT_RESUME_GRACE")
}

func TestGCHeapFloor(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]uint64{"": 64 << 20, "0": 0, "256": 256 << 20} {
		c, err := config.Load(nil, env(map[string]string{"INKGRAPH_GC_HEAP_FLOOR_MIB": v}))
		require.NoError(t, err, v)
		require.Equal(t, want, c.GCHeapFloor, v)
	}
	for _, v := range []string{"-1", "64MiB", "2000000"} {
		_, err := config.Load(nil, env(map[string]string{"INKGRAPH_GC_HEAP_FLOOR_MIB": v}))
		require.ErrorContains(t, err, "INKGRAPH_GC_HEAP_FLOOR_MIB", v)
	}
}
