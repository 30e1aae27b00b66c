package conversation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// Every function here that reads a user's rows filters by the user's ID; the ones
// key rotation uses (…NotSealedWith, reseal…) serve the operator's command, never a
// user's request.

// findSettings returns the user's chat settings; found is false when the user never
// saved any.
func findSettings(ctx context.Context, db bun.IDB, userID string) (s *models.ChatSettings, found bool, err error) {
	s = new(models.ChatSettings)
	err = db.NewSelect().Model(s).Where("user_id = ?", userID).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &models.ChatSettings{UserID: userID}, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("find chat settings: %w", err)
	}
	s.UpdatedAt = s.UpdatedAt.UTC()
	return s, true, nil
}

func upsertSettings(ctx context.Context, db bun.IDB, s *models.ChatSettings) error {
	_, err := db.NewInsert().Model(s).
		On("CONFLICT (user_id) DO UPDATE").
		Set("keep_history = EXCLUDED.keep_history").
		Set("require_tool_approval = EXCLUDED.require_tool_approval").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("save chat settings: %w", err)
	}
	return nil
}

func countConversations(ctx context.Context, db bun.IDB, userID string) (int, error) {
	n, err := db.NewSelect().Model((*models.Conversation)(nil)).Where("user_id = ?", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count conversations: %w", err)
	}
	return int(n), nil
}

func insertConversation(ctx context.Context, db bun.IDB, c *models.Conversation) error {
	if _, err := db.NewInsert().Model(c).Exec(ctx); err != nil {
		return fmt.Errorf("create conversation: %w", err)
	}
	return nil
}

// findConversation returns the user's conversation id, NOT_FOUND when the user has
// none by that ID (whoever else might).
func findConversation(ctx context.Context, db bun.IDB, userID, id string) (*models.Conversation, error) {
	c := new(models.Conversation)
	if err := database.NotFound(db.NewSelect().Model(c).Where("id = ? AND user_id = ?", id, userID).Scan(ctx), "conversation"); err != nil {
		return nil, err
	}
	return conversationInUTC(c), nil
}

// listCursor is a position in a list ordered by (updated_at, id), both descending.
type listCursor struct {
	UpdatedAt time.Time
	ID        string
}

// findConversations returns up to limit of the user's conversations, most recently
// updated first, after the cursor when one is given.
func findConversations(ctx context.Context, db bun.IDB, userID string, after *listCursor, limit int) ([]*models.Conversation, error) {
	var rows []*models.Conversation
	q := db.NewSelect().Model(&rows).Where("user_id = ?", userID)
	if after != nil {
		q = q.Where("(updated_at < ? OR (updated_at = ? AND id < ?))", after.UpdatedAt, after.UpdatedAt, after.ID)
	}
	if err := q.OrderExpr("updated_at DESC, id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find conversations: %w", err)
	}
	for _, c := range rows {
		conversationInUTC(c)
	}
	return rows, nil
}

// updateTitle stores c's sealed title and updated_at.
func updateTitle(ctx context.Context, db bun.IDB, c *models.Conversation) error {
	_, err := db.NewUpdate().Model(c).Column("title", "key_version", "updated_at").
		Where("id = ? AND user_id = ?", c.ID, c.UserID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("rename conversation: %w", err)
	}
	return nil
}

// updateCount stores c's message count and updated_at.
func updateCount(ctx context.Context, db bun.IDB, c *models.Conversation) error {
	_, err := db.NewUpdate().Model(c).Column("message_count", "updated_at").
		Where("id = ? AND user_id = ?", c.ID, c.UserID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update conversation: %w", err)
	}
	return nil
}

// deleteConversation deletes the user's conversation id and (by the foreign key) its
// messages; false when the user has none by that ID.
func deleteConversation(ctx context.Context, db bun.IDB, userID, id string) (bool, error) {
	res, err := db.NewDelete().Model((*models.Conversation)(nil)).Where("id = ? AND user_id = ?", id, userID).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("delete conversation: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// deleteConversationsOf deletes every conversation of the user, and their messages.
func deleteConversationsOf(ctx context.Context, db bun.IDB, userID string) (int, error) {
	res, err := db.NewDelete().Model((*models.Conversation)(nil)).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete conversations: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func insertMessages(ctx context.Context, db bun.IDB, msgs []*models.ConversationMessage) error {
	if _, err := db.NewInsert().Model(&msgs).Exec(ctx); err != nil {
		return fmt.Errorf("add messages: %w", err)
	}
	return nil
}

// findMessages returns up to limit messages of the user's conversation, oldest first,
// after position after (0 for the first).
func findMessages(ctx context.Context, db bun.IDB, userID, conversationID string, after, limit int) ([]*models.ConversationMessage, error) {
	var rows []*models.ConversationMessage
	err := db.NewSelect().Model(&rows).
		Where("conversation_id = ? AND user_id = ? AND position > ?", conversationID, userID, after).
		Order("position").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("find messages: %w", err)
	}
	for _, m := range rows {
		m.CreatedAt = m.CreatedAt.UTC()
	}
	return rows, nil
}

// findLastMessages returns the last n messages of the user's conversation, oldest
// first.
func findLastMessages(ctx context.Context, db bun.IDB, userID, conversationID string, n int) ([]*models.ConversationMessage, error) {
	var rows []*models.ConversationMessage
	err := db.NewSelect().Model(&rows).
		Where("conversation_id = ? AND user_id = ?", conversationID, userID).
		OrderExpr("position DESC").Limit(int64(n)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("find messages: %w", err)
	}
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	return rows, nil
}

// --- key rotation ---

func findConversationsNotSealedWith(ctx context.Context, db bun.IDB, current, limit int) ([]*models.Conversation, error) {
	var rows []*models.Conversation
	err := db.NewSelect().Model(&rows).Where("key_version <> ?", current).Order("id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("find conversations to reseal: %w", err)
	}
	return rows, nil
}

func findMessagesNotSealedWith(ctx context.Context, db bun.IDB, current, limit int) ([]*models.ConversationMessage, error) {
	var rows []*models.ConversationMessage
	err := db.NewSelect().Model(&rows).Where("key_version <> ?", current).
		Order("conversation_id", "position").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("find messages to reseal: %w", err)
	}
	return rows, nil
}

// resealTitle stores c's new sealed title unless the title changed since old was
// read (a rename meanwhile sealed it anew).
func resealTitle(ctx context.Context, db bun.IDB, c *models.Conversation, old []byte) (bool, error) {
	res, err := db.NewUpdate().Model(c).Column("title", "key_version").
		Where("id = ? AND user_id = ? AND title = ?", c.ID, c.UserID, old).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("reseal conversation: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// resealContent stores m's new sealed content (messages never change otherwise).
func resealContent(ctx context.Context, db bun.IDB, m *models.ConversationMessage, old []byte) (bool, error) {
	res, err := db.NewUpdate().Model(m).Column("content", "key_version").
		Where("conversation_id = ? AND position = ? AND user_id = ? AND content = ?", m.ConversationID, m.Position, m.UserID, old).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("reseal message: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// countByVersion counts sealed values of table per key version.
func countByVersion(ctx context.Context, db bun.IDB, model any) (map[int]int, error) {
	var rows []struct {
		KeyVersion int `bun:"key_version"`
		N          int `bun:"n"`
	}
	err := db.NewSelect().Model(model).Column("key_version").ColumnExpr("COUNT(*) AS n").Group("key_version").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("count sealed values by version: %w", err)
	}
	out := make(map[int]int, len(rows))
	for _, r := range rows {
		out[r.KeyVersion] = r.N
	}
	return out, nil
}

func conversationInUTC(c *models.Conversation) *models.Conversation {
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c
}
