package chat

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// The chat area's SQL: the tool calls waiting for approval (chat_approvals). Every
// statement names the user.

// insertApproval records a call waiting for a decision. A row of the same run and call
// ID that was already decided (a model may reuse a call ID in a later turn) gives way.
func insertApproval(ctx context.Context, db bun.IDB, a *models.ChatApproval) error {
	if _, err := db.NewDelete().Model((*models.ChatApproval)(nil)).
		Where("run_id = ? AND call_id = ? AND user_id = ?", a.RunID, a.CallID, a.UserID).
		Exec(ctx); err != nil {
		return fmt.Errorf("replace approval: %w", err)
	}
	if _, err := db.NewInsert().Model(a).Exec(ctx); err != nil {
		return fmt.Errorf("insert approval: %w", err)
	}
	return nil
}

// findApproval returns the user's approval of a run's call; NOT_FOUND when there is
// none (or it is another user's).
func findApproval(ctx context.Context, db bun.IDB, userID, runID, callID string) (*models.ChatApproval, error) {
	a := new(models.ChatApproval)
	err := db.NewSelect().Model(a).
		Where("run_id = ? AND call_id = ? AND user_id = ?", runID, callID, userID).
		Scan(ctx)
	if err != nil {
		return nil, database.NotFound(err, "tool call")
	}
	return a, nil
}

// decideApproval sets the status (and the user's replacement arguments, "" for none)
// of a pending approval, and reports whether it was pending: false when another
// decision, the run's timeout or its end came first.
func decideApproval(ctx context.Context, db bun.IDB, userID, runID, callID, status, arguments string, at time.Time) (bool, error) {
	q := db.NewUpdate().Model((*models.ChatApproval)(nil)).
		Set("status = ?", status).
		Set("decided_at = ?", at)
	if arguments != "" {
		q = q.Set("arguments = ?", arguments)
	}
	res, err := q.Where("run_id = ? AND call_id = ? AND user_id = ? AND status = ?", runID, callID, userID, models.ApprovalPending).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("decide approval: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// consumeApproval clears the replacement arguments of a decided approval once the run
// has read them: the row then holds no chat data.
func consumeApproval(ctx context.Context, db bun.IDB, userID, runID, callID string) error {
	if _, err := db.NewUpdate().Model((*models.ChatApproval)(nil)).
		Set("arguments = NULL").
		Where("run_id = ? AND call_id = ? AND user_id = ? AND status <> ?", runID, callID, userID, models.ApprovalPending).
		Exec(ctx); err != nil {
		return fmt.Errorf("consume approval: %w", err)
	}
	return nil
}

// deleteApprovalsExpiredBefore removes every user's approvals that expired before t:
// long past anything a run or a late approveToolCall could still ask of them.
func deleteApprovalsExpiredBefore(ctx context.Context, db bun.IDB, t time.Time) error {
	if _, err := db.NewDelete().Model((*models.ChatApproval)(nil)).
		Where("expires_at < ?", t).
		Exec(ctx); err != nil {
		return fmt.Errorf("delete expired approvals: %w", err)
	}
	return nil
}
