package audit

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/models"
)

// The store: every SQL statement of the audit area, over bun.IDB so an entry can be
// written inside the transaction of the change it records.

// insertEntry records the entry; an entry with the same user, kind and non-empty
// Ref as an earlier one is dropped.
func insertEntry(ctx context.Context, db bun.IDB, e *models.AuditEntry) error {
	if _, err := db.NewInsert().Model(e).On("CONFLICT (user_id, kind, ref) WHERE ref <> '' DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("record audit entry: %w", err)
	}
	return nil
}

// findEntries returns up to limit of the entries whose column (user_id or team_id)
// is value, newest first, after the cursor position (at, id) when one is given.
func findEntries(ctx context.Context, db bun.IDB, column, value string, after *cursor, limit int) ([]*models.AuditEntry, error) {
	var rows []*models.AuditEntry
	q := db.NewSelect().Model(&rows).Where("? = ?", bun.Ident(column), value)
	if after != nil {
		q = q.Where("(at < ? OR (at = ? AND id < ?))", after.At, after.At, after.ID)
	}
	if err := q.OrderExpr("at DESC, id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find audit log: %w", err)
	}
	for _, e := range rows {
		e.At = e.At.UTC()
	}
	return rows, nil
}
