package resolvers

import (
	"context"
	"time"

	"github.com/inkgraph/inkgraph/models"
)

// Backups is what the resolvers need of the backup area. (Query resolvers reach it
// as r.Resolver.Backups: their own Backups method shadows the field.)
type Backups interface {
	RequestUpload(ctx context.Context, userID string, in models.BackupUploadInput) (*models.BackupUpload, error)
	CompleteUpload(ctx context.Context, userID, id string) (*models.BackupRecord, error)
	Backups(ctx context.Context, userID string, first int, after string) (*models.BackupConnection, error)
	LatestBackup(ctx context.Context, userID string, ifModifiedSince *time.Time) (latest *models.BackupRecord, found bool, err error)
	DownloadRequest(ctx context.Context, userID, id string) (*models.SignedRequest, error)
	DeleteBackup(ctx context.Context, userID, id string) (*models.BackupRecord, error)
	Usage(ctx context.Context, userID string) (*models.BackupUsage, error)
}

func (r queryResolver) Backups(ctx context.Context, first *int, after *string) (*models.BackupConnection, error) {
	caller, err := models.CallerFrom(ctx)
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
	return r.Resolver.Backups.Backups(ctx, caller.UserID, n, cursor)
}

func (r queryResolver) LatestBackup(ctx context.Context, ifModifiedSince *time.Time) (*models.BackupRecord, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	// Nothing (newer) is found: latest is nil, GraphQL's null.
	latest, _, err := r.Resolver.Backups.LatestBackup(ctx, caller.UserID, ifModifiedSince)
	return latest, err
}

func (r queryResolver) BackupDownloadURL(ctx context.Context, backupID string) (*models.SignedRequest, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	req, err := r.Resolver.Backups.DownloadRequest(ctx, caller.UserID, backupID)
	return req, notFoundArgument(err, "id")
}

func (r queryResolver) BackupUsage(ctx context.Context) (*models.BackupUsage, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Resolver.Backups.Usage(ctx, caller.UserID)
}

func (r mutationResolver) RequestBackupUpload(ctx context.Context, input models.BackupUploadInput) (*models.BackupUpload, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Backups.RequestUpload(ctx, caller.UserID, input)
}

func (r mutationResolver) CompleteBackupUpload(ctx context.Context, backupID string) (*models.BackupRecord, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	b, err := r.Backups.CompleteUpload(ctx, caller.UserID, backupID)
	return b, notFoundArgument(err, "id")
}

func (r mutationResolver) DeleteBackup(ctx context.Context, backupID string) (*models.BackupRecord, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	b, err := r.Backups.DeleteBackup(ctx, caller.UserID, backupID)
	return b, notFoundArgument(err, "id")
}
