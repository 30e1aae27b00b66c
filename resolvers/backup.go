package resolvers

import (
	"context"
	"time"

	"github.com/inkgraph/inkgraph/models"
)

// Backups is what the resolvers need of the backup area.
type Backups interface {
	RequestUpload(ctx context.Context, userID string, in models.BackupUploadInput) (*models.BackupUpload, error)
	CompleteUpload(ctx context.Context, userID, id string) (*models.BackupRecord, error)
	Backups(ctx context.Context, userID string, first int, after string) (*models.BackupConnection, error)
	LatestBackup(ctx context.Context, userID string, ifModifiedSince *time.Time) (*models.BackupRecord, error)
	DownloadRequest(ctx context.Context, userID, id string) (*models.SignedRequest, error)
	DeleteBackup(ctx context.Context, userID, id string) (*models.BackupRecord, error)
	Usage(ctx context.Context, userID string) (*models.BackupUsage, error)
}

// backupsFor returns the caller's ID and the backup area.
func (r *Resolver) backupsFor(ctx context.Context) (string, Backups, error) {
	id, err := callerID(ctx)
	if err != nil {
		return "", nil, err
	}
	if r.Backups == nil {
		return "", nil, models.Errorf(models.CodeInternal, "backups are not wired on this server")
	}
	return id, r.Backups, nil
}

func (r *queryResolver) Backups(ctx context.Context, first *int, after *string) (*models.BackupConnection, error) {
	id, b, err := r.backupsFor(ctx)
	if err != nil {
		return nil, err
	}
	n, cursor := 0, ""
	if first != nil {
		if n = *first; n == 0 {
			return nil, models.InvalidInput("first", "first must be between 1 and 100")
		}
	}
	if after != nil {
		cursor = *after
	}
	return b.Backups(ctx, id, n, cursor)
}

func (r *queryResolver) LatestBackup(ctx context.Context, ifModifiedSince *time.Time) (*models.BackupRecord, error) {
	id, b, err := r.backupsFor(ctx)
	if err != nil {
		return nil, err
	}
	return b.LatestBackup(ctx, id, ifModifiedSince)
}

func (r *queryResolver) BackupDownloadURL(ctx context.Context, backupID string) (*models.SignedRequest, error) {
	id, b, err := r.backupsFor(ctx)
	if err != nil {
		return nil, err
	}
	return b.DownloadRequest(ctx, id, backupID)
}

func (r *queryResolver) BackupUsage(ctx context.Context) (*models.BackupUsage, error) {
	id, b, err := r.backupsFor(ctx)
	if err != nil {
		return nil, err
	}
	return b.Usage(ctx, id)
}

func (r *mutationResolver) RequestBackupUpload(ctx context.Context, input models.BackupUploadInput) (*models.BackupUpload, error) {
	id, b, err := r.backupsFor(ctx)
	if err != nil {
		return nil, err
	}
	return b.RequestUpload(ctx, id, input)
}

func (r *mutationResolver) CompleteBackupUpload(ctx context.Context, backupID string) (*models.BackupRecord, error) {
	id, b, err := r.backupsFor(ctx)
	if err != nil {
		return nil, err
	}
	return b.CompleteUpload(ctx, id, backupID)
}

func (r *mutationResolver) DeleteBackup(ctx context.Context, backupID string) (*models.BackupRecord, error) {
	id, b, err := r.backupsFor(ctx)
	if err != nil {
		return nil, err
	}
	return b.DeleteBackup(ctx, id, backupID)
}
