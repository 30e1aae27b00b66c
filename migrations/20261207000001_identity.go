package migrations

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// identity adds what the ways of signing in need: API keys (stored as a SHA-256 and a
// short prefix, never the key), the external identities (an OpenID provider's issuer
// and subject) linked to users, and, on each session, how it signed in and the
// network it signed in from (the client address masked to its /24 or /48).
func identity(m *migrate.Migrations) error {
	return m.Register(func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`CREATE TABLE api_keys (
				id TEXT PRIMARY KEY,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				name TEXT NOT NULL,
				prefix TEXT NOT NULL,
				key_hash TEXT NOT NULL,
				scopes TEXT NOT NULL,
				created_at {{time}} NOT NULL,
				last_used_at {{time}},
				expires_at {{time}},
				revoked_at {{time}}
			)`,
			`CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash)`,
			`CREATE INDEX api_keys_user_id_idx ON api_keys (user_id)`,
			`CREATE TABLE user_identities (
				issuer TEXT NOT NULL,
				subject TEXT NOT NULL,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				email TEXT NOT NULL DEFAULT '',
				created_at {{time}} NOT NULL,
				PRIMARY KEY (issuer, subject)
			)`,
			`CREATE INDEX user_identities_user_id_idx ON user_identities (user_id)`,
			`ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'PASSWORD'`,
			`ALTER TABLE sessions ADD COLUMN client_network TEXT NOT NULL DEFAULT ''`,
		)
	}, func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`ALTER TABLE sessions DROP COLUMN client_network`,
			`ALTER TABLE sessions DROP COLUMN method`,
			`DROP TABLE user_identities`,
			`DROP TABLE api_keys`,
		)
	})
}
