package backup

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// Every function here that reads a user's rows filters by the user's ID; the sweep's
// query (findUnfinished) serves the server, never a user's request.

// usedBytes is what counts against the user's quota at now: completed backups and
// uploads whose URL still works, except the backup except (when not "").
func usedBytes(ctx context.Context, db bun.IDB, userID string, now time.Time, except string) (int64, error) {
	var used sql.NullInt64
	q := db.NewSelect().Model((*models.BackupRecord)(nil)).ColumnExpr("SUM(size_bytes)").
		Where("user_id = ?", userID).
		Where("(status = ? OR (status = ? AND upload_expires_at > ?))", models.BackupCompleted, models.BackupPending, now)
	if except != "" {
		q = q.Where("id <> ?", except)
	}
	if err := q.Scan(ctx, &used); err != nil {
		return 0, fmt.Errorf("sum backup sizes: %w", err)
	}
	return used.Int64, nil
}

func insertBackup(ctx context.Context, db bun.IDB, b *models.BackupRecord) error {
	if _, err := db.NewInsert().Model(b).Exec(ctx); err != nil {
		return fmt.Errorf("record backup: %w", err)
	}
	return nil
}

// findBackup returns the user's backup id, NOT_FOUND when the user has none by
// that ID (whoever else might).
func findBackup(ctx context.Context, db bun.IDB, userID, id string) (*models.BackupRecord, error) {
	b := new(models.BackupRecord)
	if err := database.NotFound(db.NewSelect().Model(b).Where("id = ? AND user_id = ?", id, userID).Scan(ctx), "backup"); err != nil {
		return nil, err
	}
	return inUTC(b), nil
}

// findBackupByKey returns the user's backup stored at key; NOT_FOUND when the key
// is free.
func findBackupByKey(ctx context.Context, db bun.IDB, userID, key string) (*models.BackupRecord, error) {
	b := new(models.BackupRecord)
	if err := database.NotFound(db.NewSelect().Model(b).Where("user_id = ? AND object_key = ?", userID, key).Scan(ctx), "backup"); err != nil {
		return nil, err
	}
	return inUTC(b), nil
}

// backupCursor is a position in a history ordered by (timestamp, id), both descending.
type backupCursor struct {
	Timestamp time.Time
	ID        string
}

// findBackups returns up to limit of the user's backups, newest timestamp first,
// after the cursor when one is given.
func findBackups(ctx context.Context, db bun.IDB, userID string, after *backupCursor, limit int) ([]*models.BackupRecord, error) {
	var rows []*models.BackupRecord
	q := db.NewSelect().Model(&rows).Where("user_id = ?", userID)
	if after != nil {
		q = q.Where("(taken_at < ? OR (taken_at = ? AND id < ?))", after.Timestamp, after.Timestamp, after.ID)
	}
	if err := q.OrderExpr("taken_at DESC, id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find backups: %w", err)
	}
	for _, b := range rows {
		inUTC(b)
	}
	return rows, nil
}

// findLatestCompleted returns the user's completed backup with the newest
// timestamp; NOT_FOUND when there is none.
func findLatestCompleted(ctx context.Context, db bun.IDB, userID string) (*models.BackupRecord, error) {
	b := new(models.BackupRecord)
	err := db.NewSelect().Model(b).Where("user_id = ? AND status = ?", userID, models.BackupCompleted).
		OrderExpr("taken_at DESC, id DESC").Limit(1).Scan(ctx)
	if err := database.NotFound(err, "completed backup"); err != nil {
		return nil, err
	}
	return inUTC(b), nil
}

func markCompleted(ctx context.Context, db bun.IDB, userID, id string, at time.Time) error {
	if _, err := db.NewUpdate().Model((*models.BackupRecord)(nil)).
		Set("status = ?", models.BackupCompleted).Set("completed_at = ?", at).
		Where("id = ? AND user_id = ? AND status = ?", id, userID, models.BackupPending).Exec(ctx); err != nil {
		return fmt.Errorf("complete backup: %w", err)
	}
	return nil
}

func markFailed(ctx context.Context, db bun.IDB, userID, id, reason string) error {
	if _, err := db.NewUpdate().Model((*models.BackupRecord)(nil)).
		Set("status = ?", models.BackupFailed).Set("failure_reason = ?", reason).
		Where("id = ? AND user_id = ? AND status = ?", id, userID, models.BackupPending).Exec(ctx); err != nil {
		return fmt.Errorf("fail backup: %w", err)
	}
	return nil
}

func deleteBackupRow(ctx context.Context, db bun.IDB, userID, id string) error {
	if _, err := db.NewDelete().Model((*models.BackupRecord)(nil)).Where("id = ? AND user_id = ?", id, userID).Exec(ctx); err != nil {
		return fmt.Errorf("delete backup: %w", err)
	}
	return nil
}

// findUnfinished returns up to limit backups of any user that were requested at or
// before before and never completed: the sweep's work.
func findUnfinished(ctx context.Context, db bun.IDB, before time.Time, limit int) ([]*models.BackupRecord, error) {
	var rows []*models.BackupRecord
	if err := db.NewSelect().Model(&rows).Where("status <> ?", models.BackupCompleted).Where("created_at <= ?", before).
		Order("created_at").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find unfinished backups: %w", err)
	}
	for _, b := range rows {
		inUTC(b)
	}
	return rows, nil
}

// inUTC gives a backup read back the location it was written in: drivers return
// times in the process's local zone.
func inUTC(b *models.BackupRecord) *models.BackupRecord {
	b.Timestamp, b.CreatedAt, b.UploadExpiresAt = b.Timestamp.UTC(), b.CreatedAt.UTC(), b.UploadExpiresAt.UTC()
	if b.CompletedAt != nil {
		t := b.CompletedAt.UTC()
		b.CompletedAt = &t
	}
	return b
}
