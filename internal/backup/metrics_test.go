package backup_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// backupBytes reads the bytes stored in store as /metrics shows them (0 before the
// first backup there).
func backupBytes(t *testing.T, store string) float64 {
	t.Helper()
	v, err := metrics.Read("inkgraph_backup_bytes_stored_total", "store", store)
	require.NoError(t, err)
	return v
}

// TestCompletedBackupsCountTheirBytes: a completed backup adds its size to the bytes
// stored in its store, once (completing it again adds nothing); a failed one adds
// nothing. Not parallel: the counters are process-wide, and no other test of this
// package may complete a backup meanwhile.
func TestCompletedBackupsCountTheirBytes(t *testing.T) {
	ctx := context.Background()
	db := testkit.NewDB(t, testkit.SQLite)
	for _, store := range []string{"local", "s3"} {
		t.Run(store, func(t *testing.T) {
			e := newEnv(t, db, store)
			user := e.newUser(t, models.TierPro)
			before := backupBytes(t, store)
			blob := blobN(1)
			b := e.upload(t, user, blob, e.clock.Now())
			require.Equal(t, float64(len(blob)), backupBytes(t, store)-before)
			_, err := e.svc.CompleteUpload(ctx, user, b.ID)
			require.NoError(t, err)
			require.Equal(t, float64(len(blob)), backupBytes(t, store)-before, "completing again stores nothing more")

			// Declared one size, uploaded another: failed, nothing stored.
			up, err := e.svc.RequestUpload(ctx, user, input(blobN(22), e.clock.Now().Add(time.Second)))
			require.NoError(t, err)
			e.putRaw(t, up.Backup.ObjectKey, []byte("something else"))
			_, err = e.svc.CompleteUpload(ctx, user, up.Backup.ID)
			testkit.RequireCode(t, err, models.CodeConflict)
			require.Equal(t, float64(len(blob)), backupBytes(t, store)-before)
		})
	}
}
