package migrations

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// teams adds shared workspaces: a team, its members with their role (owner, admin,
// member), and invitations to join it. An invitation keeps only the SHA-256 of its
// token, never the token; a link invitation has no email and any signed-in user may
// accept it. A member row goes with its team or its user. Audit entries of team events
// name their team (audit_log.team_id, no foreign key: the log outlives the team), so
// that a team's owners and admins can read its log.
func teams(m *migrate.Migrations) error {
	return m.Register(func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`CREATE TABLE teams (
				id TEXT PRIMARY KEY,
				name TEXT NOT NULL,
				created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
				created_at {{time}} NOT NULL
			)`,
			`CREATE TABLE team_members (
				team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				role TEXT NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER')),
				joined_at {{time}} NOT NULL,
				PRIMARY KEY (team_id, user_id)
			)`,
			`CREATE INDEX team_members_user_id_idx ON team_members (user_id)`,
			`CREATE TABLE team_invitations (
				id TEXT PRIMARY KEY,
				team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
				email TEXT,
				role TEXT NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER')),
				token_hash TEXT NOT NULL UNIQUE,
				invited_by TEXT REFERENCES users (id) ON DELETE SET NULL,
				expires_at {{time}} NOT NULL,
				accepted_at {{time}},
				accepted_by TEXT REFERENCES users (id) ON DELETE SET NULL,
				revoked_at {{time}},
				created_at {{time}} NOT NULL
			)`,
			`CREATE INDEX team_invitations_team_id_idx ON team_invitations (team_id)`,
			`ALTER TABLE audit_log ADD COLUMN team_id TEXT`,
			`CREATE INDEX audit_log_team_id_idx ON audit_log (team_id, at)`,
		)
	}, func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db, `DROP INDEX audit_log_team_id_idx`, `ALTER TABLE audit_log DROP COLUMN team_id`,
			`DROP TABLE team_invitations`, `DROP TABLE team_members`, `DROP TABLE teams`)
	})
}
