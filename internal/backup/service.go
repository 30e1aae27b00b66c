// Package backup owns users' backups: opaque blobs of their local data, encrypted by
// the client before they leave it, kept in a blob store (S3 through aws-sdk-go-v2, or
// a local directory, the embedded default) under {userID}/{timestamp}. The server
// never sees a blob's bytes: it signs short-lived upload and download requests that
// clients make to the store directly, checks an upload's size and SHA-256 when the
// client completes it, enforces the tier's storage quota at request and again at
// completion, and sweeps uploads never completed. Nothing here serves HTTP: the local
// store's signed URLs are served by internal/backup/localhttp.
package backup

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/models"
)

// Tiers tells a user's tier, which sets the backup quota (models.FeaturesOf).
type Tiers interface {
	TierOf(ctx context.Context, userID string) (models.Tier, error)
}

// MaxSizeBytes is the largest blob: S3's limit for a single PUT (5 GiB).
const MaxSizeBytes int64 = 5 << 30

// Config is the backup area's configuration (see internal/platform/config).
type Config struct {
	// URLTTL is how long signed upload and download requests work; 15 minutes when 0.
	URLTTL time.Duration
	// PendingTimeout is how long after its request an upload never completed is
	// removed (object and row) by Sweep; 1 hour when 0. It must exceed URLTTL.
	PendingTimeout time.Duration
}

// Deps are what the service is built from besides its Config.
type Deps struct {
	DB     bun.IDB
	Store  BlobStore
	Tiers  Tiers
	Logger *slog.Logger
	Now    func() time.Time
}

// Service implements the backup area.
type Service struct {
	cfg   Config
	db    bun.IDB
	store BlobStore
	// storeName labels the bytes of completed backups in metrics.BackupBytes.
	storeName string
	tiers     Tiers
	logger    *slog.Logger
	clock     func() time.Time
}

const (
	defaultPage = 20
	maxPage     = 100
	sweepBatch  = 500
)

// NewService returns the backup service.
func NewService(cfg Config, d Deps) (*Service, error) {
	if d.DB == nil || d.Store == nil || d.Tiers == nil {
		return nil, errors.New("backup: DB, Store and Tiers are required")
	}
	if cfg.URLTTL == 0 {
		cfg.URLTTL = 15 * time.Minute
	}
	if cfg.PendingTimeout == 0 {
		cfg.PendingTimeout = time.Hour
	}
	if cfg.URLTTL < time.Second || cfg.URLTTL > 7*24*time.Hour {
		return nil, fmt.Errorf("backup: the URL lifetime must be between 1s and 7 days (S3's limit), got %s", cfg.URLTTL)
	}
	if cfg.PendingTimeout <= cfg.URLTTL {
		return nil, fmt.Errorf("backup: the pending timeout (%s) must exceed the URL lifetime (%s), or uploads in progress would be removed",
			cfg.PendingTimeout, cfg.URLTTL)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{cfg: cfg, db: d.DB, store: d.Store, storeName: storeName(d.Store), tiers: d.Tiers, logger: d.Logger, clock: d.Now}, nil
}

// storeName is the store label of the backup metrics: "s3", "local", or "other" for a
// store of another kind (tests' fakes).
func storeName(store BlobStore) string {
	switch store.(type) {
	case *S3Store:
		return "s3"
	case *LocalStore:
		return "local"
	}
	return "other"
}

// now is the clock in UTC, to the microsecond: what both dialects store unchanged.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// --- input ---

// upload is a validated BackupUploadInput.
type upload struct {
	version   int
	timestamp time.Time
	sum       []byte
	checksum  string
	size      int64
}

// parseUpload checks what the client declares. The timestamp is RFC 3339 (kept to
// the millisecond, from 1970 until a day from now); the checksum is the SHA-256 as
// 64 hex digits (either case; stored lowercase); the size is 1 byte to MaxSizeBytes.
// Nothing of the input reaches the object key but the timestamp's milliseconds.
func parseUpload(in models.BackupUploadInput, now time.Time) (upload, error) {
	u := upload{version: in.Version, size: in.SizeBytes}
	if in.Version < 1 {
		return u, models.InvalidInput("version", "version must be a positive whole number, got %d", in.Version)
	}
	ts, err := time.Parse(time.RFC3339Nano, in.Timestamp)
	if err != nil || strings.ContainsAny(in.Timestamp, "/\\\x00") {
		return u, models.InvalidInput("timestamp", "timestamp must be an RFC 3339 date-time such as 2026-11-22T09:00:00.000Z")
	}
	u.timestamp = ts.UTC().Truncate(time.Millisecond)
	if u.timestamp.Before(time.UnixMilli(0)) || u.timestamp.After(now.Add(24*time.Hour)) {
		return u, models.InvalidInput("timestamp", "timestamp must lie between 1970 and a day from now")
	}
	if len(in.Checksum) != 64 {
		return u, models.InvalidInput("checksum", "checksum must be the blob's SHA-256 as 64 hex digits")
	}
	if u.sum, err = hex.DecodeString(in.Checksum); err != nil {
		return u, models.InvalidInput("checksum", "checksum must be the blob's SHA-256 as 64 hex digits")
	}
	u.checksum = hex.EncodeToString(u.sum)
	if in.SizeBytes < 1 || in.SizeBytes > MaxSizeBytes {
		return u, models.InvalidInput("sizeBytes", "sizeBytes must be from 1 to %d (5 GiB), got %d", MaxSizeBytes, in.SizeBytes)
	}
	return u, nil
}

// objectKey is where a user's backup taken at ts lives: built by the server alone
// from the caller's ID and the timestamp's Unix milliseconds.
func objectKey(userID string, ts time.Time) string {
	return userID + "/" + strconv.FormatInt(ts.UnixMilli(), 10)
}

// parseID reads a backup ID; anything but a UUID is refused before it reaches a query,
// as NOT_FOUND, the answer to an ID that names no backup of the caller's (as an
// unknown persona or playbook ID is answered, malformed or not).
func parseID(id string) (string, error) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return "", &models.Error{Code: models.CodeNotFound, Field: "id", Message: "no such backup: id is not a backup ID"}
	}
	return u.String(), nil
}

// --- quota ---

// quota is the user's backup quota: the tier and its limit (models.Unlimited for none).
func (s *Service) quota(ctx context.Context, userID string) (models.Tier, int64, error) {
	tier, err := s.tiers.TierOf(ctx, userID)
	if err != nil {
		return "", 0, err
	}
	return tier, models.FeaturesOf(tier).BackupBytes, nil
}

// checkQuota refuses size more bytes when used already count against limit.
func checkQuota(tier models.Tier, limit, used, size int64) error {
	if limit == models.Unlimited || used+size <= limit {
		return nil
	}
	msg := fmt.Sprintf("this backup (%s) would bring your backup storage to %s, over the %s tier's %s: delete old backups or upgrade",
		models.FormatBytes(size), models.FormatBytes(used+size), strings.ToUpper(string(tier)), models.FormatBytes(limit))
	if limit == 0 {
		msg = fmt.Sprintf("the %s tier includes no backup storage: upgrade to PRO or higher to back up", strings.ToUpper(string(tier)))
	}
	return &models.Error{Code: models.CodeQuotaExceeded, Message: msg, Quota: &models.Quota{Used: used + size, Limit: limit}}
}

// Usage tells how much backup storage the user uses against the tier's quota.
func (s *Service) Usage(ctx context.Context, userID string) (*models.BackupUsage, error) {
	tier, limit, err := s.quota(ctx, userID)
	if err != nil {
		return nil, err
	}
	used, err := usedBytes(ctx, s.db, userID, s.now(), "")
	if err != nil {
		return nil, err
	}
	u := &models.BackupUsage{UsedBytes: used, Tier: tier}
	if limit != models.Unlimited {
		u.LimitBytes = &limit
	}
	return u, nil
}

// --- uploading ---

// RequestUpload records a pending backup and returns the signed PUT that uploads
// it: the client sends exactly the returned headers (length and checksum) with the
// blob. QUOTA_EXCEEDED when completed backups and pending uploads plus this one
// would pass the tier's quota; CONFLICT when a backup with the same timestamp is
// pending or completed.
func (s *Service) RequestUpload(ctx context.Context, userID string, in models.BackupUploadInput) (*models.BackupUpload, error) {
	now := s.now()
	u, err := parseUpload(in, now)
	if err != nil {
		return nil, err
	}
	tier, limit, err := s.quota(ctx, userID)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, models.Internal(err, "new id")
	}
	rec := &models.BackupRecord{
		ID: id.String(), UserID: userID, Version: u.version, Timestamp: u.timestamp, SizeBytes: u.size,
		Checksum: u.checksum, ObjectKey: objectKey(userID, u.timestamp), Status: models.BackupPending,
		CreatedAt: now, UploadExpiresAt: now.Add(s.cfg.URLTTL),
	}
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		// Under the user's lock, so concurrent requests cannot each fit the quota alone.
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		used, err := usedBytes(ctx, tx, userID, now, "")
		if err != nil {
			return err
		}
		if err := checkQuota(tier, limit, used, u.size); err != nil {
			return err
		}
		prev, err := findBackupByKey(ctx, tx, userID, rec.ObjectKey)
		switch {
		case models.ErrorCode(err) == models.CodeNotFound: // the key is free
		case err != nil:
			return err
		default:
			if prev.Status != models.BackupFailed {
				return models.Errorf(models.CodeConflict, "a backup taken at %s is already %s: delete it first or use another timestamp",
					prev.Timestamp.Format(time.RFC3339Nano), strings.ToLower(string(prev.Status)))
			}
			// A failed upload's key is free again; a late PUT through its old URL
			// may have left an object, which must not pass for the new one.
			if err := s.store.Delete(ctx, prev.ObjectKey); err != nil {
				return models.Internal(err, "delete a failed backup's object")
			}
			if err := deleteBackupRow(ctx, tx, userID, prev.ID); err != nil {
				return err
			}
		}
		return insertBackup(ctx, tx, rec)
	})
	if database.IsUniqueViolation(err) {
		return nil, models.Errorf(models.CodeConflict, "a backup with this timestamp is being requested at the same time")
	}
	if err != nil {
		return nil, err
	}
	req, err := s.store.PresignPut(ctx, rec.ObjectKey, rec.SizeBytes, u.sum, s.cfg.URLTTL)
	if err != nil {
		if derr := deleteBackupRow(context.WithoutCancel(ctx), s.db, userID, rec.ID); derr != nil {
			s.logger.ErrorContext(ctx, "remove a backup whose upload could not be signed", "error", derr, "backup_id", rec.ID)
		}
		return nil, models.Internal(err, "sign the upload")
	}
	return &models.BackupUpload{Backup: rec, SignedRequest: *req}, nil
}

// CompleteUpload checks that the backup's object is in the store with the declared
// size and checksum and that the quota still holds (the tier may have changed since
// the request), and marks it COMPLETED. Otherwise it deletes the object, marks the
// backup FAILED with the reason and answers CONFLICT (or QUOTA_EXCEEDED). Completing
// a completed backup again returns it.
func (s *Service) CompleteUpload(ctx context.Context, userID, id string) (*models.BackupRecord, error) {
	id, err := parseID(id)
	if err != nil {
		return nil, err
	}
	rec, err := findBackup(ctx, s.db, userID, id)
	if err != nil {
		return nil, err
	}
	if rec.Status != models.BackupPending {
		return finished(rec)
	}
	// Read the object outside the transaction: it can take a while.
	reason := ""
	info, err := s.store.Stat(ctx, rec.ObjectKey)
	switch {
	case errors.Is(err, ErrObjectNotFound):
		reason = "no blob was uploaded"
	case err != nil:
		return nil, models.Internal(err, "read the uploaded blob")
	case info.Size != rec.SizeBytes:
		reason = fmt.Sprintf("the uploaded blob has %d bytes, not the %d declared", info.Size, rec.SizeBytes)
	case hex.EncodeToString(info.SHA256) != rec.Checksum:
		reason = "the uploaded blob's SHA-256 is not the declared checksum"
	}
	tier, limit, err := s.quota(ctx, userID)
	if err != nil {
		return nil, err
	}
	var refusal error
	completed := false
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		completed = false
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		cur, err := findBackup(ctx, tx, userID, id)
		if err != nil {
			return err // swept meanwhile
		}
		if rec = cur; cur.Status != models.BackupPending {
			return nil // completed concurrently
		}
		now := s.now()
		if reason != "" {
			refusal = models.Errorf(models.CodeConflict, "the upload failed: %s; request a new upload", reason)
		} else {
			used, err := usedBytes(ctx, tx, userID, now, id)
			if err != nil {
				return err
			}
			if refusal = checkQuota(tier, limit, used, rec.SizeBytes); refusal != nil {
				reason = "over the backup quota"
			}
		}
		if refusal != nil {
			// The object goes before the row says FAILED: while the row is pending
			// no other backup can claim its key.
			if err := s.store.Delete(ctx, rec.ObjectKey); err != nil {
				return models.Internal(err, "delete a failed backup's object")
			}
			return markFailed(ctx, tx, userID, id, reason)
		}
		completed = true
		return markCompleted(ctx, tx, userID, id, now)
	})
	if err != nil {
		return nil, err
	}
	if completed {
		metrics.BackupBytes.WithLabelValues(s.storeName).Add(float64(rec.SizeBytes))
	}
	if refusal != nil {
		return nil, refusal
	}
	if rec, err = findBackup(ctx, s.db, userID, id); err != nil {
		return nil, err
	}
	return finished(rec)
}

// finished answers completing a backup that is no longer pending.
func finished(rec *models.BackupRecord) (*models.BackupRecord, error) {
	if rec.Status == models.BackupFailed {
		return nil, models.Errorf(models.CodeConflict, "the upload failed: %s; request a new upload", rec.FailureReason)
	}
	return rec, nil
}

// --- reading ---

// Backups returns a page of the user's backups (any status), newest timestamp first:
// first backups (1 to 100, 20 when 0) after the cursor after ("" for the newest).
func (s *Service) Backups(ctx context.Context, userID string, first int, after string) (*models.BackupConnection, error) {
	switch {
	case first == 0:
		first = defaultPage
	case first < 1 || first > maxPage:
		return nil, models.InvalidInput("first", "first must be between 1 and %d, got %d", maxPage, first)
	}
	var cur *backupCursor
	if after != "" {
		c, err := parseCursor(after)
		if err != nil {
			return nil, models.InvalidInput("after", "after is not a cursor of this list: pass an edge's cursor or endCursor")
		}
		cur = &c
	}
	rows, err := findBackups(ctx, s.db, userID, cur, first+1)
	if err != nil {
		return nil, err
	}
	conn := &models.BackupConnection{Edges: []*models.BackupEdge{}, PageInfo: models.PageInfo{HasNextPage: len(rows) > first}}
	if len(rows) > first {
		rows = rows[:first]
	}
	for _, b := range rows {
		conn.Edges = append(conn.Edges, &models.BackupEdge{Cursor: formatCursor(backupCursor{Timestamp: b.Timestamp, ID: b.ID}), Node: b})
	}
	if n := len(conn.Edges); n > 0 {
		end := conn.Edges[n-1].Cursor
		conn.PageInfo.EndCursor = &end
	}
	return conn, nil
}

func formatCursor(c backupCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.Timestamp.UnixMilli(), 10) + ":" + c.ID))
}

func parseCursor(s string) (backupCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return backupCursor{}, err
	}
	ms, id, ok := strings.Cut(string(b), ":")
	if !ok {
		return backupCursor{}, fmt.Errorf("cursor %q has no id", s)
	}
	if _, err := parseID(id); err != nil {
		return backupCursor{}, err
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return backupCursor{}, err
	}
	return backupCursor{Timestamp: time.UnixMilli(n).UTC(), ID: id}, nil
}

// Backup returns one of the user's backups; NOT_FOUND for anyone else's.
func (s *Service) Backup(ctx context.Context, userID, id string) (*models.BackupRecord, error) {
	id, err := parseID(id)
	if err != nil {
		return nil, err
	}
	return findBackup(ctx, s.db, userID, id)
}

// LatestBackup returns the user's completed backup with the newest timestamp.
// found is false, and latest nil, when there is none or, with ifModifiedSince, when
// it is not newer than that: not an error but an answer (GraphQL's null, "nothing
// newer than what you have").
func (s *Service) LatestBackup(ctx context.Context, userID string, ifModifiedSince *time.Time) (latest *models.BackupRecord, found bool, err error) {
	b, err := findLatestCompleted(ctx, s.db, userID)
	if models.ErrorCode(err) == models.CodeNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if ifModifiedSince != nil && !b.Timestamp.After(*ifModifiedSince) {
		return nil, false, nil
	}
	return b, true, nil
}

// DownloadRequest returns the signed GET of a completed backup's blob.
func (s *Service) DownloadRequest(ctx context.Context, userID, id string) (*models.SignedRequest, error) {
	b, err := s.Backup(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	if b.Status != models.BackupCompleted {
		return nil, models.Errorf(models.CodeConflict, "the backup is %s: only completed backups can be downloaded", strings.ToLower(string(b.Status)))
	}
	req, err := s.store.PresignGet(ctx, b.ObjectKey, s.cfg.URLTTL)
	if err != nil {
		return nil, models.Internal(err, "sign the download")
	}
	return req, nil
}

// --- deleting ---

// DeleteBackup deletes the backup's object, then its row, and returns it as it was.
// A pending backup's upload is cancelled (its URL then stores nothing anyone reads,
// and the sweep removes what it might still store).
func (s *Service) DeleteBackup(ctx context.Context, userID, id string) (*models.BackupRecord, error) {
	id, err := parseID(id)
	if err != nil {
		return nil, err
	}
	var b *models.BackupRecord
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		if b, err = findBackup(ctx, tx, userID, id); err != nil {
			return err
		}
		// The object first: a row without an object can be deleted again, an object
		// without a row would be stored (and never billed) forever.
		if err := s.store.Delete(ctx, b.ObjectKey); err != nil {
			return models.Internal(err, "delete the backup's object")
		}
		return deleteBackupRow(ctx, tx, userID, id)
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Sweep removes uploads never completed (pending or failed) requested more than the
// pending timeout ago, objects first, and returns how many it removed. Run it
// periodically on any instance; running it again changes nothing.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	n := 0
	var errs []error
	for {
		rows, err := findUnfinished(ctx, s.db, s.now().Add(-s.cfg.PendingTimeout), sweepBatch)
		if err != nil {
			return n, errors.Join(append(errs, err)...)
		}
		removed := 0
		for _, b := range rows {
			gone := false
			err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
				if err := database.LockUser(ctx, tx, b.UserID); err != nil {
					return err
				}
				// Completed or deleted since it was listed: not the sweep's any more.
				cur, err := findBackup(ctx, tx, b.UserID, b.ID)
				if models.ErrorCode(err) == models.CodeNotFound || (err == nil && cur.Status == models.BackupCompleted) {
					return nil
				}
				if err != nil {
					return err
				}
				if err := s.store.Delete(ctx, cur.ObjectKey); err != nil {
					return err
				}
				gone = true
				return deleteBackupRow(ctx, tx, b.UserID, b.ID)
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("sweep backup %s: %w", b.ID, err))
			} else if gone {
				removed++
			}
		}
		n += removed
		if len(rows) < sweepBatch || removed == 0 || ctx.Err() != nil {
			return n, errors.Join(errs...)
		}
	}
}
