package migrations

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// usage adds the LLM usage meter: one row per user, day, source (a chat agent or
// a playbook) and provider kind, counting requests, calls and tokens. Chat text is
// never stored; these counts are all the server keeps of a run.
func usage(m *migrate.Migrations) error {
	return m.Register(func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`CREATE TABLE llm_usage (
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				day TEXT NOT NULL,
				source TEXT NOT NULL,
				provider TEXT NOT NULL CHECK (provider IN ('server', 'byok', 'offline')),
				requests BIGINT NOT NULL DEFAULT 0,
				calls BIGINT NOT NULL DEFAULT 0,
				prompt_tokens BIGINT NOT NULL DEFAULT 0,
				completion_tokens BIGINT NOT NULL DEFAULT 0,
				total_tokens BIGINT NOT NULL DEFAULT 0,
				updated_at {{time}} NOT NULL,
				PRIMARY KEY (user_id, day, source, provider)
			)`,
		)
	}, func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db, `DROP TABLE llm_usage`)
	})
}
