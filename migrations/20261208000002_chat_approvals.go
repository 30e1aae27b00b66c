package migrations

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// chatApprovals adds the tool calls of chat runs waiting for the user's approval: a
// run on one instance waits on its row while approveToolCall, on any instance,
// decides it. No chat text is stored: the agent and tool name the call's schema, and
// arguments holds the user's replacement arguments until the run has read them.
func chatApprovals(m *migrate.Migrations) error {
	return m.Register(func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`CREATE TABLE chat_approvals (
				run_id TEXT NOT NULL,
				call_id TEXT NOT NULL,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				agent TEXT NOT NULL,
				tool TEXT NOT NULL,
				status TEXT NOT NULL,
				arguments TEXT,
				created_at {{time}} NOT NULL,
				expires_at {{time}} NOT NULL,
				decided_at {{time}},
				PRIMARY KEY (run_id, call_id)
			)`,
			`CREATE INDEX chat_approvals_user_id_idx ON chat_approvals (user_id)`,
			`CREATE INDEX chat_approvals_expires_at_idx ON chat_approvals (expires_at)`,
		)
	}, func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db, `DROP TABLE chat_approvals`)
	})
}
