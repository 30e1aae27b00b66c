package models

import (
	"time"

	"github.com/uptrace/bun"
)

// ChatSettings is a user's chat preferences. A user without a row has the zero
// value: no history kept, and tool calls approved only where an agent asks for it.
type ChatSettings struct {
	bun.BaseModel `bun:"table:chat_settings"`

	UserID string `bun:"user_id,pk"`
	// KeepHistory stores the user's conversations, encrypted at rest; off, nothing
	// of a chat is stored.
	KeepHistory bool `bun:"keep_history,notnull"`
	// RequireToolApproval makes every tool with effects outside the conversation
	// wait for the user's approval (approveToolCall) before it runs.
	RequireToolApproval bool      `bun:"require_tool_approval,notnull"`
	UpdatedAt           time.Time `bun:"updated_at,notnull"`
}
