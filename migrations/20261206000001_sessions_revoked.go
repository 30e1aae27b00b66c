package migrations

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// sessionsRevoked indexes the revoked sessions: every instance reads those revoked
// within an access token's life at start, on each events-bus resume and every 30 s
// (internal/auth's revocation set), and the sessions table only grows. Partial, so it
// holds the revoked few, not every session.
func sessionsRevoked(m *migrate.Migrations) error {
	return m.Register(func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL`)
	}, func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db, `DROP INDEX sessions_revoked_at_idx`)
	})
}
