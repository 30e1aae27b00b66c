package migrations

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// accounts adds users, their sessions (refresh-token families) and refresh tokens.
func accounts(m *migrate.Migrations) error {
	return m.Register(func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`CREATE TABLE users (
				id TEXT PRIMARY KEY,
				email TEXT NOT NULL,
				password_hash TEXT NOT NULL,
				tier TEXT NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'pro', 'power', 'team')),
				created_at {{time}} NOT NULL,
				updated_at {{time}} NOT NULL
			)`,
			`CREATE UNIQUE INDEX users_email_key ON users (email)`,
			`CREATE TABLE sessions (
				id TEXT PRIMARY KEY,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				user_agent TEXT NOT NULL DEFAULT '',
				created_at {{time}} NOT NULL,
				last_used_at {{time}} NOT NULL,
				revoked_at {{time}},
				revoke_reason TEXT NOT NULL DEFAULT ''
			)`,
			`CREATE INDEX sessions_user_id_idx ON sessions (user_id)`,
			`CREATE TABLE refresh_tokens (
				id TEXT PRIMARY KEY,
				session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				token_hash TEXT NOT NULL,
				created_at {{time}} NOT NULL,
				expires_at {{time}} NOT NULL,
				used_at {{time}}
			)`,
			`CREATE UNIQUE INDEX refresh_tokens_token_hash_key ON refresh_tokens (token_hash)`,
			`CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id)`,
		)
	}, func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`DROP TABLE refresh_tokens`,
			`DROP TABLE sessions`,
			`DROP TABLE users`,
		)
	})
}
