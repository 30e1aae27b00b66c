package migrations

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// chatHistory adds each user's chat settings and, for a user who keeps history, their
// conversations and messages. A conversation's title and a message's content are
// sealed with the key ring (key_version says with which key, for `keys rotate`);
// nothing else of the text is stored. Deleting the user deletes them.
func chatHistory(m *migrate.Migrations) error {
	return m.Register(func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`CREATE TABLE chat_settings (
				user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
				keep_history BOOLEAN NOT NULL DEFAULT FALSE,
				require_tool_approval BOOLEAN NOT NULL DEFAULT FALSE,
				updated_at {{time}} NOT NULL
			)`,
			`CREATE TABLE conversations (
				id TEXT PRIMARY KEY,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				title {{blob}} NOT NULL,
				key_version INTEGER NOT NULL,
				message_count INTEGER NOT NULL DEFAULT 0,
				created_at {{time}} NOT NULL,
				updated_at {{time}} NOT NULL
			)`,
			`CREATE INDEX conversations_user_updated_idx ON conversations (user_id, updated_at, id)`,
			`CREATE INDEX conversations_key_version_idx ON conversations (key_version)`,
			`CREATE TABLE conversation_messages (
				conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				position INTEGER NOT NULL,
				role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
				content {{blob}} NOT NULL,
				key_version INTEGER NOT NULL,
				created_at {{time}} NOT NULL,
				PRIMARY KEY (conversation_id, position)
			)`,
			`CREATE INDEX conversation_messages_user_id_idx ON conversation_messages (user_id)`,
			`CREATE INDEX conversation_messages_key_version_idx ON conversation_messages (key_version)`,
		)
	}, func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`DROP TABLE conversation_messages`,
			`DROP TABLE conversations`,
			`DROP TABLE chat_settings`,
		)
	})
}
