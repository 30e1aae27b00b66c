// Package testkit holds what the tests of every area share: databases per dialect,
// the real third-party peers the tests run against, and the switch that turns a
// missing service from a skip into a failure (REQUIRE_SERVICES=1, set by CI).
package testkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// DefaultPostgresURL is where the tests look for PostgreSQL when TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// RequireServices reports whether a missing service must fail the run instead of skipping.
func RequireServices() bool { return os.Getenv("REQUIRE_SERVICES") == "1" }

// Unavailable skips the test because a service it needs is missing, or fails it when
// REQUIRE_SERVICES=1 says every service must be there.
func Unavailable(t testing.TB, service string, err error) {
	t.Helper()
	if RequireServices() {
		t.Fatalf("%s is required (REQUIRE_SERVICES=1) but unavailable: %v", service, err)
	}
	t.Skipf("%s unavailable: %v", service, err)
}

// PostgresURL returns the URL of a reachable PostgreSQL server, or skips (fails under
// REQUIRE_SERVICES=1) when there is none.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		u = DefaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		Unavailable(t, "PostgreSQL", err)
		return ""
	}
	defer conn.Close(context.Background())
	if err := conn.Ping(ctx); err != nil {
		Unavailable(t, "PostgreSQL", err)
	}
	return u
}

// PostgresSchemaURL creates an empty schema for this test alone and returns a URL whose
// connections use it (search_path), so tests on one server never see each other's rows.
// The schema is dropped when the test ends.
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	schema := "t_" + RandomHex(8)

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %q: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// RandomHex returns n random bytes, hex encoded: unique names for schemas, channels, users.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
