// Package migrations holds Inkgraph's schema changes as Go migrations, compiled into
// the binary. Each file NNNNNNNNNNNNNN_name.go adds one migration through a function
// that New calls explicitly; DDL that differs between dialects switches on
// db.Dialect().Name() inside the migration.
package migrations

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"
)

// New returns every migration, in order.
func New() (*migrate.Migrations, error) {
	m := migrate.NewMigrations()
	for _, register := range []func(*migrate.Migrations) error{
		accounts,
		onboarding,
		billing,
		backups,
		usage,
		sessionsRevoked,
		identity,
		chatHistory,
		chatApprovals,
		teams,
		knowledge,
		teamBilling,
		teamSpaces,
	} {
		if err := register(m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// blobType is the column type of raw bytes.
func blobType(db bun.IDB) string {
	if db.Dialect().Name() == dialect.PG {
		return "BYTEA"
	}
	return "BLOB"
}

// timeType is the column type of a point in time (always stored in UTC).
func timeType(db bun.IDB) string {
	if db.Dialect().Name() == dialect.PG {
		return "TIMESTAMPTZ"
	}
	return "TIMESTAMP"
}

// execAll runs statements in one transaction, so a migration applies whole or not at
// all (both PostgreSQL and SQLite have transactional DDL). {{time}} and {{blob}} in a
// statement become the dialect's timestamp and bytes types.
func execAll(ctx context.Context, db *bun.DB, stmts ...string) error {
	r := strings.NewReplacer("{{time}}", timeType(db), "{{blob}}", blobType(db))
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, r.Replace(s)); err != nil {
				return fmt.Errorf("%s: %w", firstLine(s), err)
			}
		}
		return nil
	})
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
