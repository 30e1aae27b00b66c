package models

import (
	"time"

	"github.com/uptrace/bun"
)

// Conversation is one of a user's stored chats (kept only while the user's
// ChatSettings.KeepHistory is on). Its title is stored sealed with the key ring;
// Title is the opened text, never stored as such.
type Conversation struct {
	bun.BaseModel `bun:"table:conversations"`

	ID     string `bun:"id,pk"`
	UserID string `bun:"user_id,notnull"`
	// SealedTitle is the title sealed with the key ring, bound to the user and the
	// conversation; KeyVersion is the ring's version that sealed it.
	SealedTitle  []byte    `bun:"title,notnull"`
	KeyVersion   int       `bun:"key_version,notnull"`
	MessageCount int       `bun:"message_count,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
	// UpdatedAt is when a message was last added or the title changed.
	UpdatedAt time.Time `bun:"updated_at,notnull"`

	Title string `bun:"-"`
}

// ConversationMessage is one message of a stored conversation: the user's or the
// assistant's. Its content is stored sealed; Content is the opened text.
type ConversationMessage struct {
	bun.BaseModel `bun:"table:conversation_messages"`

	ConversationID string `bun:"conversation_id,pk"`
	// Position counts the conversation's messages from 1, oldest first.
	Position int    `bun:"position,pk"`
	UserID   string `bun:"user_id,notnull"`
	// Role is ConversationRoleUser or ConversationRoleAssistant.
	Role          string    `bun:"role,notnull"`
	SealedContent []byte    `bun:"content,notnull"`
	KeyVersion    int       `bun:"key_version,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`

	Content string `bun:"-"`
}

// The roles of a conversation's messages, as chat's turns name them.
const (
	ConversationRoleUser      = "user"
	ConversationRoleAssistant = "assistant"
)

// ConversationEdge is a conversation with the cursor that continues after it.
type ConversationEdge struct {
	Cursor string
	Node   *Conversation
}

// ConversationConnection is one page of a user's conversations, most recently
// updated first.
type ConversationConnection struct {
	Edges    []*ConversationEdge
	PageInfo PageInfo
}

// ConversationMessageEdge is a message with the cursor that continues after it.
type ConversationMessageEdge struct {
	Cursor string
	Node   *ConversationMessage
}

// ConversationMessageConnection is one page of a conversation's messages, oldest
// first.
type ConversationMessageConnection struct {
	Edges    []*ConversationMessageEdge
	PageInfo PageInfo
}

// UpdateChatSettingsInput changes a user's chat settings; a nil field is left as it
// is.
type UpdateChatSettingsInput struct {
	KeepHistory         *bool
	RequireToolApproval *bool
}
