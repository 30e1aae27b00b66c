package testkit

import (
	"context"
	"database/sql"
	"net/url"
	"testing"
	"time"
)

// PostgresDatabaseURL creates an empty database for this test alone, on the server
// PostgresURL names, and returns its URL; the database is dropped when the test ends.
// Unlike PostgresSchemaURL's schemas it needs no search_path startup parameter, which
// a connection pooler such as PgBouncer refuses: tests that go through one use this.
func PostgresDatabaseURL(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	name := "t_" + RandomHex(8)

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE ends the sessions still open on it (a pooler's, a listener's).
		_, _ = db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	})

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %q: %v", base, err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}
