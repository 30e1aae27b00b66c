package testkit

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/migrations"
)

// Dialect names a database the store and service suites run on.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// EachDialect runs fn as a subtest on a fresh, migrated database of every dialect:
// SQLite always, PostgreSQL whenever it is reachable (and under REQUIRE_SERVICES=1,
// or the run fails).
func EachDialect(t *testing.T, fn func(t *testing.T, db *bun.DB)) {
	t.Helper()
	for _, d := range []Dialect{SQLite, Postgres} {
		t.Run(string(d), func(t *testing.T) {
			fn(t, NewDB(t, d))
		})
	}
}

// NewDB opens a fresh database of dialect d with every migration applied; it is
// closed (and on PostgreSQL its schema dropped) when the test ends.
func NewDB(t testing.TB, d Dialect) *bun.DB {
	t.Helper()
	db := OpenEmpty(t, d)
	m := NewMigrator(t, db)
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatalf("migrate up (%s): %v", d, err)
	}
	return db
}

// OpenEmpty opens a fresh database of dialect d with no migrations applied.
func OpenEmpty(t testing.TB, d Dialect) *bun.DB {
	t.Helper()
	cfg := database.Config{MaxOpenConns: 8}
	switch d {
	case SQLite:
		cfg.URL = "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	case Postgres:
		cfg.URL = PostgresSchemaURL(t)
	default:
		t.Fatalf("unknown dialect %q", d)
	}
	db, err := database.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// DatabaseURL returns a URL for a fresh, empty database of dialect d, for tests that
// start the whole server from its configuration.
func DatabaseURL(t testing.TB, d Dialect) string {
	t.Helper()
	if d == Postgres {
		return PostgresSchemaURL(t)
	}
	return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
}

// NewMigrator returns a migrator of db over the embedded migrations.
func NewMigrator(t testing.TB, db *bun.DB) *database.Migrator {
	t.Helper()
	ms, err := migrations.New()
	if err != nil {
		t.Fatalf("load migrations: %v", err)
	}
	return database.NewMigrator(db, ms)
}
