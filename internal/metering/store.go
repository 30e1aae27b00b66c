package metering

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/models"
)

// addUsage adds rows to the day's counters, creating them as needed: one statement,
// so concurrent runs of one user add up instead of overwriting each other.
func addUsage(ctx context.Context, db bun.IDB, now time.Time, rows []*models.UsageRow) error {
	for _, r := range rows {
		r.Day, r.UpdatedAt = dayOf(now), now.UTC()
	}
	_, err := db.NewInsert().Model(&rows).
		On("CONFLICT (user_id, day, source, provider) DO UPDATE").
		Set("requests = ?TableAlias.requests + EXCLUDED.requests").
		Set("calls = ?TableAlias.calls + EXCLUDED.calls").
		Set("prompt_tokens = ?TableAlias.prompt_tokens + EXCLUDED.prompt_tokens").
		Set("completion_tokens = ?TableAlias.completion_tokens + EXCLUDED.completion_tokens").
		Set("total_tokens = ?TableAlias.total_tokens + EXCLUDED.total_tokens").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return models.Internal(err, "add usage")
	}
	return nil
}

// usageRows returns the user's rows from day from to day to, inclusive, oldest first.
func usageRows(ctx context.Context, db bun.IDB, userID, from, to string) ([]*models.UsageRow, error) {
	rows := []*models.UsageRow{}
	err := db.NewSelect().Model(&rows).
		Where("user_id = ?", userID).Where("day >= ?", from).Where("day <= ?", to).
		Order("day", "source", "provider").Scan(ctx)
	if err != nil {
		return nil, models.Internal(err, "read usage")
	}
	return rows, nil
}

// monthTokens sums the tokens the server's provider answered the user since day from.
func monthTokens(ctx context.Context, db bun.IDB, userID, from string) (int64, error) {
	var total int64
	err := db.NewSelect().Model((*models.UsageRow)(nil)).ColumnExpr("COALESCE(SUM(total_tokens), 0)").
		Where("user_id = ?", userID).Where("day >= ?", from).Where("provider = ?", models.UsageServer).
		Scan(ctx, &total)
	if err != nil {
		return 0, models.Internal(err, "sum usage")
	}
	return total, nil
}
