package migrations

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"
)

// teamSpaces gives every team a shared space: a users row of kind 'team' with the
// team's ID, which nobody signs in as (no password, no email: 'team:<id>' is no
// address). Every table keyed by user ID then keeps a team's onboarding data,
// personas, provider keys, usage and documents under it, and a request acting in the
// team reads and writes them there. Existing teams get theirs, with the tier their
// subscription grants stored as a user's is. custom_playbooks holds
// the playbooks a user or a team's admins built from the server's templates (spec:
// the plan as JSON, rebuilt and checked on every read); knowledge_forgotten_blobs the
// files of a deleted team's documents, which knowledge's sweep deletes.
func teamSpaces(m *migrate.Migrations) error {
	return m.Register(func(ctx context.Context, db *bun.DB) error {
		kind := `ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person'`
		if db.Dialect().Name() == dialect.PG {
			// SQLite could not drop a column with a CHECK: the application checks it there.
			kind += ` CHECK (kind IN ('person', 'team'))`
		}
		return execAll(ctx, db,
			kind,
			// Files of a deleted space's documents, deleted by knowledge's sweep at its
			// next run (deleted_once) and again once keep_until passed (the last signed
			// upload URL's expiry: a late PUT is deleted too); no foreign key, since
			// the documents are gone.
			`CREATE TABLE knowledge_forgotten_blobs (
				blob_key TEXT PRIMARY KEY,
				keep_until {{time}} NOT NULL,
				deleted_once BOOLEAN NOT NULL DEFAULT FALSE
			)`,
			// Spaces a rollback left behind (it keeps their data) are spaces again,
			// and those whose team was deleted meanwhile (by a version that knew no
			// spaces) go, their documents' files to the sweep first.
			`UPDATE users SET kind = 'team' WHERE password_hash = '' AND email = 'team:' || id`,
			`INSERT INTO knowledge_forgotten_blobs (blob_key, keep_until)
				SELECT d.blob_key, COALESCE(d.upload_expires_at, CURRENT_TIMESTAMP) FROM documents d JOIN users u ON u.id = d.user_id
				WHERE u.kind = 'team' AND NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = u.id)`,
			`DELETE FROM users WHERE kind = 'team' AND NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = users.id)`,
			`INSERT INTO users (id, email, password_hash, tier, kind, created_at, updated_at)
				SELECT t.id, 'team:' || t.id, '', COALESCE(b.granted_tier, 'free'), 'team', t.created_at, t.created_at
				FROM teams t LEFT JOIN team_billing_accounts b ON b.team_id = t.id
				WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.id)`,
			`CREATE TABLE custom_playbooks (
				id TEXT PRIMARY KEY,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				name TEXT NOT NULL,
				spec TEXT NOT NULL,
				created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
				created_at {{time}} NOT NULL,
				updated_at {{time}} NOT NULL
			)`,
			`CREATE UNIQUE INDEX custom_playbooks_user_name_key ON custom_playbooks (user_id, name)`,
			// createTeam counts the teams a user created (the cap).
			`CREATE INDEX teams_created_by_idx ON teams (created_by)`,
		)
	}, func(ctx context.Context, db *bun.DB) error {
		// The spaces stay, with what teams keep in them: a rollback destroys no team's
		// data (only custom_playbooks, and the files of deleted spaces the sweep had
		// yet to delete, which it counts). Without the kind column they are rows nobody
		// can sign in as still (no password, no address).
		return execAll(ctx, db,
			`DROP INDEX teams_created_by_idx`,
			`DROP TABLE knowledge_forgotten_blobs`,
			`DROP TABLE custom_playbooks`,
			`ALTER TABLE users DROP COLUMN kind`,
		)
	})
}
