package models

import (
	"time"

	"github.com/uptrace/bun"
)

// ChatApproval is a tool call of a chat run waiting for, or answered by, the user's
// decision (approveToolCall). It holds no text of the chat: the agent and tool name
// the call's schema, and Arguments, the user's replacement arguments, is cleared once
// the run has read them. A row outlives its decision only to answer a late or
// repeated approveToolCall with CONFLICT; rows are removed some time after they
// expire.
type ChatApproval struct {
	bun.BaseModel `bun:"table:chat_approvals"`

	RunID  string `bun:"run_id,pk"`
	CallID string `bun:"call_id,pk"`
	UserID string `bun:"user_id,notnull"`
	Agent  string `bun:"agent,notnull"`
	Tool   string `bun:"tool,notnull"`
	// Status is pending until decided: approved, declined, expired (no decision in
	// time) or ended (the run ended first).
	Status    string     `bun:"status,notnull"`
	Arguments string     `bun:"arguments,nullzero"`
	CreatedAt time.Time  `bun:"created_at,notnull"`
	ExpiresAt time.Time  `bun:"expires_at,notnull"`
	DecidedAt *time.Time `bun:"decided_at"`
}

// The statuses of a ChatApproval.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalDeclined = "declined"
	ApprovalExpired  = "expired"
	ApprovalEnded    = "ended"
)
