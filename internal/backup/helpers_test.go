package backup_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/backup"
	"github.com/inkgraph/inkgraph/models"
)

// tiers is the Tiers fake over the users table.
type tiers struct{ db bun.IDB }

func (f tiers) TierOf(ctx context.Context, userID string) (models.Tier, error) {
	var tier models.Tier
	if err := f.db.NewSelect().Table("users").Column("tier").Where("id = ?", userID).Scan(ctx, &tier); err != nil {
		return "", models.Errorf(models.CodeNotFound, "user not found")
	}
	return tier, nil
}

// env is one backup service over a database and a blob store, with their clock.
type env struct {
	db    *bun.DB
	svc   *backup.Service
	store backup.BlobStore
	clock *clock
}

const (
	urlTTL         = 15 * time.Minute
	pendingTimeout = time.Hour
)

func newEnv(t *testing.T, db *bun.DB, storeName string) *env {
	t.Helper()
	e := &env{db: db, clock: newClock(time.Now().UTC())}
	e.store = blobStores[storeName](t, e.clock.Now)
	svc, err := backup.NewService(backup.Config{URLTTL: urlTTL, PendingTimeout: pendingTimeout},
		backup.Deps{DB: db, Store: e.store, Tiers: tiers{db}, Logger: slog.New(slog.DiscardHandler), Now: e.clock.Now})
	require.NoError(t, err)
	e.svc = svc
	return e
}

// newUser adds a user on tier and returns its ID.
func (e *env) newUser(t *testing.T, tier models.Tier) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	now := e.clock.Now()
	_, err := e.db.NewInsert().Model(&models.User{ID: id, Email: id + "@example.com", PasswordHash: "x",
		Tier: tier, CreatedAt: now, UpdatedAt: now}).Exec(context.Background())
	require.NoError(t, err)
	return id
}

func (e *env) setTier(t *testing.T, userID string, tier models.Tier) {
	t.Helper()
	_, err := e.db.NewUpdate().Table("users").Set("tier = ?", tier).Where("id = ?", userID).Exec(context.Background())
	require.NoError(t, err)
}

// input declares blob as a backup taken at ts.
func input(blob []byte, ts time.Time) models.BackupUploadInput {
	sum := sha256.Sum256(blob)
	return models.BackupUploadInput{Version: 1, Timestamp: ts.UTC().Format(time.RFC3339Nano), Checksum: hex.EncodeToString(sum[:]),
		SizeBytes: int64(len(blob))}
}

// upload requests a backup of blob taken at ts, PUTs it as a client would and
// completes it.
func (e *env) upload(t *testing.T, userID string, blob []byte, ts time.Time) *models.BackupRecord {
	t.Helper()
	up, err := e.svc.RequestUpload(context.Background(), userID, input(blob, ts))
	require.NoError(t, err)
	status, body := send(t, &up.SignedRequest, blob)
	require.Less(t, status, 300, string(body))
	b, err := e.svc.CompleteUpload(context.Background(), userID, up.Backup.ID)
	require.NoError(t, err)
	require.Equal(t, models.BackupCompleted, b.Status)
	return b
}

// requireCode checks err's code, and its field when one is given.
func requireCode(t *testing.T, err error, code string, field ...string) *models.Error {
	t.Helper()
	require.Error(t, err)
	var appErr *models.Error
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, code, appErr.Code, "%v", err)
	if len(field) > 0 {
		require.Equal(t, field[0], appErr.Field, "%v", err)
	}
	return appErr
}

// objectExists reports whether the store holds an object at key.
func (e *env) objectExists(t *testing.T, key string) bool {
	t.Helper()
	_, err := e.store.Stat(context.Background(), key)
	if errors.Is(err, backup.ErrObjectNotFound) {
		return false
	}
	require.NoError(t, err)
	return true
}

// putRaw stores body at key as a client with a URL for exactly that body would,
// to plant an object that differs from what a backup declared.
func (e *env) putRaw(t *testing.T, key string, body []byte) {
	t.Helper()
	sum := sha256.Sum256(body)
	req, err := e.store.PresignPut(context.Background(), key, int64(len(body)), sum[:], urlTTL)
	require.NoError(t, err)
	status, out := send(t, req, body)
	require.Less(t, status, 300, string(out))
}

func blobN(i int) []byte { return fmt.Appendf(nil, "encrypted backup number %d", i) }
