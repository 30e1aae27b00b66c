package migrations

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// backups adds the metadata of users' backups; the blobs themselves live in the blob
// store (S3 or a local directory) under object_key.
func backups(m *migrate.Migrations) error {
	return m.Register(func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`CREATE TABLE backups (
				id TEXT PRIMARY KEY,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				version INTEGER NOT NULL CHECK (version > 0),
				taken_at {{time}} NOT NULL,
				size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
				checksum TEXT NOT NULL,
				object_key TEXT NOT NULL,
				status TEXT NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED')),
				failure_reason TEXT NOT NULL DEFAULT '',
				created_at {{time}} NOT NULL,
				upload_expires_at {{time}} NOT NULL,
				completed_at {{time}}
			)`,
			// One row per object: a second upload to the same key would overwrite the
			// first's blob.
			`CREATE UNIQUE INDEX backups_object_key_key ON backups (object_key)`,
			// History and the latest backup, newest timestamp first.
			`CREATE INDEX backups_user_taken_at_idx ON backups (user_id, taken_at DESC, id DESC)`,
			// The sweep of uploads never completed.
			`CREATE INDEX backups_unfinished_idx ON backups (created_at) WHERE status <> 'COMPLETED'`,
		)
	}, func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db, `DROP TABLE backups`)
	})
}
