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

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/backup"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// env is one backup service over a database and a blob store, with their clock.
type env struct {
	db    *bun.DB
	svc   *backup.Service
	store backup.BlobStore
	clock *testkit.Clock
	tiers *testkit.Tiers
}

const (
	urlTTL         = 15 * time.Minute
	pendingTimeout = time.Hour
)

func newEnv(t *testing.T, db *bun.DB, storeName string) *env {
	t.Helper()
	e := &env{db: db, clock: testkit.NewClock(time.Now().UTC()), tiers: testkit.NewTiers()}
	e.store = blobStores[storeName](t, e.clock.Now)
	svc, err := backup.NewService(backup.Config{URLTTL: urlTTL, PendingTimeout: pendingTimeout},
		backup.Deps{DB: db, Store: e.store, Tiers: e.tiers, Logger: slog.New(slog.DiscardHandler), Now: e.clock.Now})
	require.NoError(t, err)
	e.svc = svc
	return e
}

// newUser adds a user on tier (as the tier lookup tells it) and returns its ID.
func (e *env) newUser(t *testing.T, tier models.Tier) string {
	t.Helper()
	id := testkit.NewUser(t, e.db, tier, e.clock.Now())
	e.tiers.Set(id, tier)
	return id
}

func (e *env) setTier(t *testing.T, userID string, tier models.Tier) {
	t.Helper()
	e.tiers.Set(userID, tier)
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
