package app_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

const (
	plansDoc = "query Plans {\n  plans {\n    tier\n  }\n}"
	meDoc    = "query Me {\n  me {\n    id\n  }\n}"
)

// TestTrustedDocumentsBothFormats reads graphql-codegen client preset's
// persisted-documents.json and Apollo's persisted query manifest, as the tools write
// them, into the same lookups: by ID (with or without "sha256:", any case of hex) and
// by exact text.
func TestTrustedDocumentsBothFormats(t *testing.T) {
	t.Parallel()
	plans, me := app.SHA256Hex(plansDoc), app.SHA256Hex(meDoc)
	for name, manifest := range map[string]string{
		app.FormatClientPreset: `{"` + plans + `": ` + quote(plansDoc) + `, "` + me + `": ` + quote(meDoc) + `}`,
		app.FormatApollo: `{"format":"apollo-persisted-query-manifest","version":1,"operations":[
			{"id":"` + plans + `","name":"Plans","type":"query","body":` + quote(plansDoc) + `},
			{"id":"` + me + `","name":"Me","type":"query","body":` + quote(meDoc) + `}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "manifest.json")
			require.NoError(t, os.WriteFile(path, []byte("\ufeff"+manifest), 0o600))
			docs, err := app.LoadTrustedDocuments(path)
			require.NoError(t, err)
			require.Equal(t, name, docs.Format)
			require.Equal(t, 2, docs.Len())
			for _, id := range []string{plans, "sha256:" + plans, strings.ToUpper(plans), "SHA256:" + plans} {
				body, ok := docs.ByID(id)
				require.True(t, ok, id)
				require.Equal(t, plansDoc, body)
			}
			id, ok := docs.IDOf(meDoc)
			require.True(t, ok)
			require.Equal(t, me, id)
			_, ok = docs.IDOf(meDoc + " ")
			require.False(t, ok, "only the exact text")
			_, ok = docs.ByID(app.SHA256Hex("query Other { plans { tier } }"))
			require.False(t, ok)
		})
	}
}

// TestTrustedDocumentsOpaqueIDs: an ID that is not a SHA-256 (graphql-codegen's sha1,
// Apollo's custom generateOperationId) is matched exactly, not checked.
func TestTrustedDocumentsOpaqueIDs(t *testing.T) {
	t.Parallel()
	const sha1ID = "4b1f3a0d6c2e9f8a7b5c4d3e2f1a0b9c8d7e6f5a" // 40 hex digits, as hashAlgorithm "sha1" makes
	docs, err := app.ParseTrustedDocuments([]byte(`{"` + sha1ID + `": ` + quote(plansDoc) + `, "me-v2": ` + quote(meDoc) + `}`))
	require.NoError(t, err)
	body, ok := docs.ByID(sha1ID)
	require.True(t, ok)
	require.Equal(t, plansDoc, body)
	body, ok = docs.ByID("me-v2")
	require.True(t, ok)
	require.Equal(t, meDoc, body)
	_, ok = docs.ByID("ME-V2")
	require.False(t, ok, "an opaque ID is matched as written")
}

// TestTrustedDocumentsRefuseBadManifests names what is wrong, and where.
func TestTrustedDocumentsRefuseBadManifests(t *testing.T) {
	t.Parallel()
	plans := app.SHA256Hex(plansDoc)
	for _, tc := range []struct{ manifest, want string }{
		{`[]`, "not a JSON object"},
		{`{`, "not a JSON object"},
		{`{}`, "no documents"},
		{`{"` + app.SHA256Hex("something else") + `": ` + quote(plansDoc) + `}`, "SHA-256 but not the document's"},
		{`{"` + plans + `": 1}`, "must be a string"},
		{`{"` + plans + `": ""}`, "empty document"},
		{`{"": ` + quote(plansDoc) + `}`, "empty id"},
		{`{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}`, "version 1"},
		{`{"format":"something","version":1,"operations":[]}`, "want \"apollo-persisted-query-manifest\""},
		{`{"format":"apollo-persisted-query-manifest","version":1,"operations":[]}`, "no documents"},
		{`{"format":"apollo-persisted-query-manifest","version":1,"operations":[
			{"id":"a","name":"A","type":"query","body":"query A { plans { tier } }"},
			{"id":"a","name":"B","type":"query","body":"query B { plans { tier } }"}]}`, "operations[1] (B): the id is given to two different documents"},
		{`{"format":"apollo-persisted-query-manifest","version":1,"operations":[
			{"id":"` + app.SHA256Hex("x") + `","name":"Plans","type":"query","body":` + quote(plansDoc) + `}]}`, "operations[0] (Plans)"},
	} {
		_, err := app.ParseTrustedDocuments([]byte(tc.manifest))
		require.ErrorContains(t, err, tc.want, tc.manifest)
	}
}

// TestNewServicesRefusesAMissingOrBadManifest: a server told to run only a manifest's
// documents does not start without them, and says which setting is wrong.
func TestNewServicesRefusesAMissingOrBadManifest(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"abc": 1}`), 0o600))
	good := filepath.Join(t.TempDir(), "good.json")
	require.NoError(t, os.WriteFile(good, []byte(`{"`+app.SHA256Hex(plansDoc)+`": `+quote(plansDoc)+`}`), 0o600))
	for path, want := range map[string]string{
		filepath.Join(t.TempDir(), "missing.json"): "no such file",
		bad:  "must be a string",
		good: "",
	} {
		cfg := testConfig(t)
		cfg.TrustedDocuments = path
		logger := slog.New(slog.DiscardHandler)
		bus := events.NewMemory(logger)
		t.Cleanup(func() { _ = bus.Close() })
		svc, err := app.NewServices(context.Background(), cfg, testkit.NewDB(t, testkit.SQLite), bus, logger)
		if want == "" {
			require.NoError(t, err)
			require.Equal(t, 1, svc.TrustedDocuments.Len())
			require.NoError(t, svc.Close())
			continue
		}
		require.ErrorContains(t, err, "INKGRAPH_TRUSTED_DOCUMENTS: ")
		require.ErrorContains(t, err, want)
	}
}

// TestRedisPersistedQueries: a document put is got back, for its time to live (which
// each read renews); a hash never put is not found.
func TestRedisPersistedQueries(t *testing.T) {
	t.Parallel()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	t.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	if err := client.Ping(ctx).Err(); err != nil {
		testkit.Unavailable(t, "Redis", err)
	}
	prefix := "test:apq:" + testkit.RandomHex(8) + ":"
	store := app.NewRedisPersistedQueries(client, prefix, time.Hour)
	hash := app.SHA256Hex(plansDoc)

	_, found, err := store.Get(ctx, hash)
	require.NoError(t, err)
	require.False(t, found)

	require.NoError(t, store.Put(ctx, hash, plansDoc))
	// Another instance's store over the same Redis and prefix.
	doc, found, err := app.NewRedisPersistedQueries(client, prefix, time.Hour).Get(ctx, hash)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, plansDoc, doc)
	ttl, err := client.TTL(ctx, prefix+hash).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 59*time.Minute)
	require.LessOrEqual(t, ttl, time.Hour)

	// Another prefix is another store.
	_, found, err = app.NewRedisPersistedQueries(client, prefix+"other:", time.Hour).Get(ctx, hash)
	require.NoError(t, err)
	require.False(t, found)

	// A read renews the time to live.
	require.NoError(t, client.Expire(ctx, prefix+hash, time.Minute).Err())
	_, _, err = store.Get(ctx, hash)
	require.NoError(t, err)
	ttl, err = client.TTL(ctx, prefix+hash).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 59*time.Minute)

	// A Redis that does not answer is an error, never "found".
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	_, found, err = app.NewRedisPersistedQueries(down, prefix, time.Hour).Get(ctx, hash)
	require.Error(t, err)
	require.False(t, found)
	require.Error(t, app.NewRedisPersistedQueries(down, prefix, time.Hour).Put(ctx, hash, plansDoc))
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// testConfig is a configuration NewServices accepts, on a SQLite database.
func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.Load(nil, func(string) string { return "" })
	require.NoError(t, err)
	cfg.JWTSecret = []byte("test-secret-test-secret-test-secret!")
	cfg.Keyring = "1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	cfg.BackupDir = t.TempDir()
	cfg.BackupSigningKey = []byte("backup-signing-key-backup-signing-key")
	return cfg
}
