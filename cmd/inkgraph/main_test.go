package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	inkgraph "github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/platform/buildinfo"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
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
			require.Equal(t, "rolled back 20261211000001_team_spaces\n", cmd("migrate", "down"), "one migration at a time")
			require.Contains(t, cmd("migrate", "status"), "pending")

			err := run(ctx, []string{"migrate", "sideways"}, getenv, &bytes.Buffer{})
			require.ErrorContains(t, err, "unknown migrate command")
		})
	}
}

func TestMigrateDownRefusesToDropRows(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := testkit.DatabaseURL(t, d)
			getenv := func(k string) string { return map[string]string{"DATABASE_URL": url}[k] }
			cmd := func(args ...string) (string, error) {
				var out bytes.Buffer
				err := run(ctx, args, getenv, &out)
				return out.String(), err
			}
			ok := func(args ...string) string {
				out, err := cmd(args...)
				require.NoError(t, err, out)
				return out
			}
			db, err := database.Open(ctx, database.Config{URL: url})
			require.NoError(t, err)
			defer db.Close()
			applied := func() []string {
				var names []string
				require.NoError(t, db.NewSelect().Table("bun_migrations").Column("name").Order("name").Scan(ctx, &names))
				return names
			}
			tables := func() []string {
				ts, err := database.Tables(ctx, db)
				require.NoError(t, err)
				return ts
			}

			ok("migrate", "up")
			require.Len(t, applied(), 13, "up applies all thirteen as one group")
			require.Equal(t, "rolled back 20261211000001_team_spaces\n", ok("migrate", "down"), "down is the last migration only")
			require.Equal(t, "rolled back 20261210000002_team_billing\n", ok("migrate", "down"), "down is the last migration only")
			require.Equal(t, "rolled back 20261210000001_knowledge\n", ok("migrate", "down"), "down is the last migration only")
			require.Equal(t, "rolled back 20261209000001_teams\n", ok("migrate", "down"), "down is the last migration only")
			require.Equal(t, "rolled back 20261208000002_chat_approvals\n", ok("migrate", "down"), "down is the last migration only")
			require.Equal(t, "rolled back 20261208000001_chat_history\n", ok("migrate", "down"), "down is the last migration only")
			require.Equal(t, "rolled back 20261207000001_identity\n", ok("migrate", "down"), "down is the last migration only")
			require.Equal(t, "rolled back 20261206000001_sessions_revoked\n", ok("migrate", "down"), "down is the last migration only")
			require.Equal(t, "rolled back 20261204000001_usage\n", ok("migrate", "down"), "down is the last migration only")
			require.Len(t, applied(), 4)

			_, err = db.NewInsert().Model(&map[string]any{
				"id": "u1", "email": "kept@example.com", "password_hash": "x", "created_at": time.Now(), "updated_at": time.Now(),
			}).TableExpr("users").Exec(ctx)
			require.NoError(t, err)

			before := tables()
			for _, args := range [][]string{
				{"migrate", "down", "-n", "4"},
				{"migrate", "down", "--to", "20261121000001_accounts", "-n=4"}, // a usage error
				{"migrate", "down", "-n=9"},
			} {
				out, err := cmd(args...)
				require.Error(t, err, args)
				require.Empty(t, out, "nothing rolled back")
			}
			_, err = cmd("migrate", "down", "-n", "4")
			require.EqualError(t, err, "refusing to roll back 20261123000001_backups, 20261122000002_billing, "+
				"20261122000001_onboarding, 20261121000001_accounts: it would drop users (1 rows); back them up, then confirm with --force",
				"names the tables holding rows, and only those")
			require.Len(t, applied(), 4, "a refused rollback changes nothing")
			require.Equal(t, before, tables())
			n, err := db.NewSelect().Table("users").Count(ctx)
			require.NoError(t, err)
			require.EqualValues(t, 1, n)

			require.Equal(t, "rolled back 20261123000001_backups\nrolled back 20261122000002_billing\nrolled back 20261122000001_onboarding\n",
				ok("migrate", "down", "--to", "20261121000001"), "empty tables roll back without --force")
			_, err = cmd("migrate", "down")
			require.ErrorContains(t, err, "refusing to roll back 20261121000001_accounts: it would drop users (1 rows)")
			require.Equal(t, []string{"20261121000001"}, applied())
			require.Equal(t, "rolled back 20261121000001_accounts\n", ok("migrate", "down", "--force"))
			require.Empty(t, applied())
			require.NotContains(t, tables(), "users", "--force drops it")
			require.Contains(t, ok("migrate", "down"), "nothing to roll back")

			ok("migrate", "up")
			require.Equal(t, 13, strings.Count(ok("migrate", "down", "-n", "13"), "rolled back"), "an empty database rolls back whole without --force")
			require.Empty(t, applied())
		})
	}
}

func TestServeAndShutDown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var logs testkit.SyncBuffer
	s := startServe(t, []string{"--data-dir", dir}, map[string]string{"INKGRAPH_BCRYPT_COST": "4"}, &logs)
	c := &http.Client{Timeout: 20 * time.Second}

	status, _ := get(t, c, "http://"+s.addr+"/readyz")
	require.Equal(t, http.StatusOK, status, "embedded mode migrates at start and becomes ready; requests wait for it")
	require.FileExists(t, filepath.Join(dir, "inkgraph.db"))
	require.FileExists(t, filepath.Join(dir, "secrets", "jwt.key"))
	require.FileExists(t, filepath.Join(dir, "secrets", "keyring"))

	resp, err := c.Post("http://"+s.addr+"/graphql", "application/json", strings.NewReader(`{"query":"{ plans { tier } }"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// The admin listener: metrics after real requests, and the profiler.
	status, body := get(t, c, "http://"+s.admin+"/metrics")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "go_goroutines ", "the Go runtime collector")
	require.Contains(t, body, "process_", "the process collector")
	require.Contains(t, body, `go_sql_max_open_connections{db_name="inkgraph"} 1`, "the database pool (SQLite: one connection)")
	status, body = get(t, c, "http://"+s.admin+"/debug/pprof/")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "goroutine")
	status, body = get(t, c, "http://"+s.admin+"/debug/pprof/goroutine?debug=1")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "goroutine profile:")
	_, body = get(t, c, "http://"+s.addr+"/debug/pprof/goroutine?debug=1")
	require.NotContains(t, body, "goroutine profile:", "never the profiler on the public listener")

	require.NoError(t, s.shutdown(t), "SIGTERM (context cancel) shuts down cleanly")
	for _, addr := range []string{s.addr, s.admin} {
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(context.Background(), "tcp", addr)
		if err == nil {
			conn.Close()
		}
		require.Error(t, err, "%s is closed after shutdown", addr)
	}
	out := logs.String()
	require.Contains(t, out, `"msg":"generated a secret for embedded mode`)
	require.Contains(t, out, `"msg":"http request"`)
	require.Contains(t, out, `"request_id"`)
	require.Contains(t, out, `"msg":"shutting down"`)
}

// Serving sets the collector's heap floor (INKGRAPH_GC_HEAP_FLOOR_MIB, 64 MiB): GOGC
// is raised while little is live, shown in the metrics, and given back at shutdown;
// a GOGC in the environment leaves it alone. Not parallel: every serve in the
// process sets the one GOGC.
func TestServeSetsTheHeapFloor(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set in the environment")
	}
	gogc := func() int {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		return int(s[0].Value.Uint64())
	}
	before := gogc()
	c := &http.Client{Timeout: 20 * time.Second}
	s := startServe(t, []string{"--data-dir", t.TempDir()}, map[string]string{"INKGRAPH_BCRYPT_COST": "4"}, io.Discard)
	status, _ := get(t, c, "http://"+s.addr+"/readyz") // started: shut down cleanly below
	require.Equal(t, http.StatusOK, status)
	status, body := get(t, c, "http://"+s.admin+"/metrics")
	require.Equal(t, http.StatusOK, status)
	m := regexp.MustCompile(`(?m)^go_gc_gogc_percent (\d+)$`).FindStringSubmatch(body)
	require.NotNil(t, m, "the runtime's GOGC in the metrics")
	percent, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.Greater(t, percent, before, "GOGC raised by the heap floor")
	require.NoError(t, s.shutdown(t))
	require.Equal(t, before, gogc(), "GOGC given back at shutdown")

	s = startServe(t, []string{"--data-dir", t.TempDir()},
		map[string]string{"INKGRAPH_BCRYPT_COST": "4", "GOGC": "100"}, io.Discard)
	status, _ = get(t, c, "http://"+s.addr+"/readyz")
	require.Equal(t, http.StatusOK, status)
	_, body = get(t, c, "http://"+s.admin+"/metrics")
	require.Contains(t, body, "\ngo_gc_gogc_percent 100\n", "an operator's GOGC is theirs")
	require.NoError(t, s.shutdown(t))
}

// A port in use is reported naming the setting, before the data directory, the
// database or the other listener is touched.
func TestPortInUse(t *testing.T) {
	t.Parallel()
	taken, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	for _, tc := range []struct{ name, setting string }{
		{"INKGRAPH_ADDR", "INKGRAPH_ADDR (--addr)"},
		{"INKGRAPH_ADMIN_ADDR", "INKGRAPH_ADMIN_ADDR (--admin-addr)"},
	} {
		dir := filepath.Join(t.TempDir(), "data")
		vars := map[string]string{"INKGRAPH_DATA_DIR": dir, "INKGRAPH_ADDR": "127.0.0.1:0", "INKGRAPH_ADMIN_ADDR": "127.0.0.1:0"}
		vars[tc.name] = taken.Addr().String()
		err := run(context.Background(), nil, func(k string) string { return vars[k] }, io.Discard)
		require.EqualError(t, err, tc.setting+": "+taken.Addr().String()+" is in use by another process (another inkgraph?): stop it or choose another address")
		require.NoDirExists(t, dir)
	}
}

// Every bad configuration fails before anything is written, opened or bound: the
// data directory is not created, no database file appears, and the error names the
// variable.
func TestBadConfigurationTouchesNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{nil, map[string]string{"INKGRAPH_ADDR": "bad"}, "INKGRAPH_ADDR: want host:port"},
		{[]string{"--addr", ":99999"}, nil, "INKGRAPH_ADDR: want a port number from 0 to 65535"},
		{nil, map[string]string{"INKGRAPH_ADMIN_ADDR": "127.0.0.1"}, "INKGRAPH_ADMIN_ADDR: want host:port"},
		{nil, map[string]string{"DATABASE_URL": "mysql://x"}, `DATABASE_URL: unsupported scheme "mysql": want postgres://… or sqlite:PATH`},
		{[]string{"migrate", "up"}, map[string]string{"DATABASE_URL": "mysql://x"}, `DATABASE_URL: unsupported scheme "mysql"`},
		{[]string{"keys", "rotate"}, map[string]string{"DATABASE_URL": "mysql://x"}, `DATABASE_URL: unsupported scheme "mysql"`},
		{nil, map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL: want http/protobuf or grpc"},
		{nil, map[string]string{"INKGRAPH_BCRYPT_COST": "3"}, "INKGRAPH_BCRYPT_COST"},
		{nil, map[string]string{"INKGRAPH_BACKUP_STORE": "s3"}, "S3_BUCKET"},
		{[]string{"--nope"}, nil, "flag provided but not defined: -nope"},
		{[]string{"migrate", "up", "--nope"}, nil, "flag provided but not defined: -nope"},
		{[]string{"migrate", "sideways"}, nil, `unknown migrate command "sideways"`},
		{[]string{"serve", "extra"}, nil, "unexpected arguments: extra"},
		// PostgreSQL without shared secrets (port 1: nothing must dial it).
		{nil, map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x"}, "INKGRAPH_JWT_SECRET, INKGRAPH_KEYRING and INKGRAPH_BACKUP_SIGNING_KEY must be set with PostgreSQL"},
		{[]string{"keys", "rotate"}, map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x"}, "must be set with PostgreSQL"},
		{nil, map[string]string{"INKGRAPH_ENV": "production"}, "INKGRAPH_JWT_SECRET: is required"},
	} {
		root := t.TempDir()
		dir := filepath.Join(root, "data")
		vars := map[string]string{"INKGRAPH_DATA_DIR": dir, "INKGRAPH_ADMIN_ADDR": "127.0.0.1:0", "INKGRAPH_ADDR": "127.0.0.1:0"}
		if tc.vars["DATABASE_URL"] == "" {
			vars["DATABASE_URL"] = "sqlite:" + filepath.Join(root, "elsewhere.db")
		}
		for k, v := range tc.vars {
			vars[k] = v
		}
		var out bytes.Buffer
		err := run(context.Background(), tc.args, func(k string) string { return vars[k] }, &out)
		require.ErrorContains(t, err, tc.want, "%v %v", tc.args, tc.vars)
		require.NoDirExists(t, dir, "%v %v", tc.args, tc.vars)
		entries, err := os.ReadDir(root)
		require.NoError(t, err)
		require.Empty(t, entries, "no database file, no secrets: %v %v", tc.args, tc.vars)
		require.Empty(t, out.String(), "no log line either: the logger starts after the configuration")
	}
}

// The S3 store's client reads the AWS SDK's own environment (AWS_CA_BUNDLE here): a
// bad one fails before anything is written or migrated too. Not parallel: the SDK
// reads the process environment.
func TestBadAWSEnvironmentTouchesNothing(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", filepath.Join(t.TempDir(), "missing-ca.pem"))
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	vars := map[string]string{"INKGRAPH_DATA_DIR": dir, "INKGRAPH_ADMIN_ADDR": "127.0.0.1:0", "INKGRAPH_ADDR": "127.0.0.1:0",
		"DATABASE_URL": "sqlite:" + filepath.Join(root, "elsewhere.db"), "INKGRAPH_BACKUP_STORE": "s3", "S3_BUCKET": "backups"}
	var out bytes.Buffer
	err := run(context.Background(), nil, func(k string) string { return vars[k] }, &out)
	require.ErrorContains(t, err, "S3 configuration")
	require.NoDirExists(t, dir)
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	require.Empty(t, entries, "no database file, no secrets")
	require.Empty(t, out.String())
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"help"}, {"-h"}, {"--help"}, {"-help"},
		{"serve", "--help"}, {"serve", "-h"}, {"--addr", ":1", "--help"},
		{"migrate", "--help"}, {"migrate", "down", "--help"}, {"keys", "--help"}, {"keys", "rotate", "-h"},
		{"version", "--help"},
	} {
		dir := filepath.Join(t.TempDir(), "data")
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), args, func(k string) string {
			return map[string]string{"INKGRAPH_DATA_DIR": dir, "INKGRAPH_ADDR": "bad"}[k]
		}, &out), "%v exits 0 (whatever else is wrong)", args)
		help := out.String()
		for _, cmd := range []string{"inkgraph [serve]", "inkgraph migrate up|status", "inkgraph migrate down", "inkgraph keys rotate", "inkgraph version", "inkgraph help"} {
			require.Contains(t, help, cmd, args)
		}
		for _, v := range config.Vars() {
			name := "\n  " + v.Name
			if v.Flag != "" {
				name += ", --" + v.Flag
			}
			require.Contains(t, help, name+"\n", "%v lists %s", args, v.Name)
		}
		require.NoDirExists(t, dir)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	var want bytes.Buffer
	require.NoError(t, writeVersion(&want, buildinfo.Get()))
	require.Contains(t, want.String(), "go       "+runtime.Version()+"\n")
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), args, func(string) string { return "" }, &out))
		require.Equal(t, want.String(), out.String(), args)
	}
	require.ErrorContains(t, run(context.Background(), []string{"version", "now"}, func(string) string { return "" }, io.Discard),
		"version takes no arguments")

	var out bytes.Buffer
	require.NoError(t, writeVersion(&out, buildinfo.Info{
		Version: "v1.4.0", Revision: "0123abcd", Time: "2026-12-06T09:00:00Z", Modified: true, GoVersion: "go1.26.8",
	}))
	require.Equal(t, "inkgraph v1.4.0\nrevision 0123abcd (modified)\ntime     2026-12-06T09:00:00Z\ngo       go1.26.8\n", out.String())
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

func TestKeysRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	const apiKey = "sk-proj-rotaterotaterotaterotate1234"

	// services opens the configured database and builds the services on it, as serve does.
	services := func(t *testing.T, vars map[string]string) (*inkgraph.Services, func()) {
		cfg, err := config.Load(nil, func(k string) string { return vars[k] })
		require.NoError(t, err)
		cfg.BcryptCost = 4
		require.NoError(t, cfg.EnsureSecrets(logger))
		db, err := database.Open(ctx, cfg.Database)
		require.NoError(t, err)
		_, err = testkit.NewMigrator(t, db).Up(ctx)
		require.NoError(t, err)
		svc, err := inkgraph.NewServices(context.Background(), cfg, db, events.NewMemory(logger), logger)
		require.NoError(t, err)
		return svc, func() { _ = db.Close() }
	}
	saveKey := func(t *testing.T, vars map[string]string) string {
		svc, done := services(t, vars)
		defer done()
		p, err := svc.Accounts.Register(ctx, auth.Credentials{Email: "rotate@example.com", Password: "password1"})
		require.NoError(t, err)
		_, err = svc.Wizard.SaveProviderKey(ctx, p.User.ID, "openai", apiKey)
		require.NoError(t, err)
		return p.User.ID
	}
	reveal := func(t *testing.T, vars map[string]string, userID string) (string, int) {
		svc, done := services(t, vars)
		defer done()
		plain, k, err := svc.Wizard.RevealProviderKey(ctx, userID, "openai")
		require.NoError(t, err)
		return plain, k.KeyVersion
	}
	rotate := func(t *testing.T, vars map[string]string) string {
		var out bytes.Buffer
		require.NoError(t, run(ctx, []string{"keys", "rotate"}, func(k string) string { return vars[k] }, &out))
		return out.String()
	}

	t.Run("embedded ring in the data directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		vars := map[string]string{"INKGRAPH_DATA_DIR": dir}
		userID := saveKey(t, vars)
		running, done := services(t, vars) // a server started before the rotation
		defer done()
		out := rotate(t, vars)
		require.Contains(t, out, "added key version 2")
		plain, k, err := running.Wizard.RevealProviderKey(ctx, userID, "openai")
		require.NoError(t, err, "the running server reloads the ring from the data directory")
		require.Equal(t, apiKey, plain)
		require.Equal(t, 2, k.KeyVersion)
		require.Contains(t, out, "re-encrypted 1 provider keys")
		require.Contains(t, out, "version 2: 1 keys")
		plain, version := reveal(t, vars, userID)
		require.Equal(t, apiKey, plain)
		require.Equal(t, 2, version)
		ring, err := os.ReadFile(filepath.Join(dir, "secrets", "keyring"))
		require.NoError(t, err)
		require.Equal(t, 2, strings.Count(string(ring), ":"), "both versions are kept")
	})

	t.Run("a running embedded server seals with the new version at once", func(t *testing.T) {
		t.Parallel()
		vars := map[string]string{"INKGRAPH_DATA_DIR": t.TempDir()}
		running, done := services(t, vars)
		defer done()
		require.Contains(t, rotate(t, vars), "re-encrypted 0 provider keys", "nothing stored yet")
		p, err := running.Accounts.Register(ctx, auth.Credentials{Email: "after@example.com", Password: "password1"})
		require.NoError(t, err)
		k, err := running.Wizard.SaveProviderKey(ctx, p.User.ID, "openai", apiKey)
		require.NoError(t, err)
		require.Equal(t, 2, k.KeyVersion, "not the version it started with, which the next ring may drop")
	})

	t.Run("operator's ring on PostgreSQL", func(t *testing.T) {
		t.Parallel()
		v1 := "1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
		v2 := "2:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
		vars := map[string]string{
			"DATABASE_URL": testkit.DatabaseURL(t, testkit.Postgres), "INKGRAPH_KEYRING": v1,
			"INKGRAPH_JWT_SECRET": strings.Repeat("j", 32), "INKGRAPH_DATA_DIR": t.TempDir(),
			"INKGRAPH_BACKUP_SIGNING_KEY": strings.Repeat("b", 32),
		}
		userID := saveKey(t, vars)
		require.Contains(t, rotate(t, vars), "re-encrypted 0 provider keys", "already under the current version")

		vars["INKGRAPH_KEYRING"] = v1 + "," + v2
		out := rotate(t, vars)
		require.NotContains(t, out, "added key version")
		require.Contains(t, out, "re-encrypted 1 provider keys")
		plain, version := reveal(t, vars, userID)
		require.Equal(t, apiKey, plain)
		require.Equal(t, 2, version)

		vars["INKGRAPH_KEYRING"] = v2
		plain, _ = reveal(t, vars, userID)
		require.Equal(t, apiKey, plain, "version 1 can now be retired")
	})

	t.Run("stored conversations", func(t *testing.T) {
		t.Parallel()
		vars := map[string]string{"INKGRAPH_DATA_DIR": t.TempDir()}
		svc, done := services(t, vars)
		p, err := svc.Accounts.Register(ctx, auth.Credentials{Email: "history@example.com", Password: "password1"})
		require.NoError(t, err)
		on := true
		_, err = svc.Conversations.UpdateSettings(ctx, p.User.ID, models.UpdateChatSettingsInput{KeepHistory: &on})
		require.NoError(t, err)
		id, err := svc.Conversations.Append(ctx, p.User.ID, "", "plan my week", "here is the plan")
		require.NoError(t, err)
		done()

		out := rotate(t, vars)
		require.Contains(t, out, "re-encrypted 1 conversation titles and 2 messages")

		svc, done = services(t, vars)
		defer done()
		c, err := svc.Conversations.Conversation(ctx, p.User.ID, id)
		require.NoError(t, err)
		require.Equal(t, "plan my week", c.Title)
		require.Equal(t, 2, c.KeyVersion, "sealed anew with the version rotate added")
		msgs, err := svc.Conversations.Messages(ctx, p.User.ID, id, 0, "")
		require.NoError(t, err)
		require.Len(t, msgs.Edges, 2)
		for _, e := range msgs.Edges {
			require.Equal(t, 2, e.Node.KeyVersion)
		}
		require.Equal(t, "here is the plan", msgs.Edges[1].Node.Content)
	})
}

func TestPostgreSQLNeedsSharedSecrets(t *testing.T) {
	t.Parallel()
	// Generated secrets are per instance; instances sharing a database must share them.
	vars := map[string]string{"DATABASE_URL": testkit.DatabaseURL(t, testkit.Postgres), "INKGRAPH_DATA_DIR": t.TempDir()}
	err := run(context.Background(), nil, func(k string) string { return vars[k] }, &bytes.Buffer{})
	require.ErrorContains(t, err, "INKGRAPH_JWT_SECRET, INKGRAPH_KEYRING and INKGRAPH_BACKUP_SIGNING_KEY must be set with PostgreSQL")
}
