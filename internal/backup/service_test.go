package backup_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/backup"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

const gib = int64(1) << 30

// eachStore runs fn on every dialect with every blob store.
func eachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		for _, name := range []string{"local", "s3"} {
			t.Run(name, func(t *testing.T) { fn(t, newEnv(t, db, name)) })
		}
	})
}

func TestBackupLifecycle(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		user := e.newUser(t, models.TierPro)
		blob := []byte("ciphertext of the user's local data")
		ts := time.Date(2026, 11, 22, 9, 0, 0, 123_000_000, time.UTC)

		up, err := e.svc.RequestUpload(ctx, user, input(blob, ts))
		require.NoError(t, err)
		require.Equal(t, models.BackupPending, up.Backup.Status)
		require.Equal(t, user+"/1795338000123", up.Backup.ObjectKey, "keyed {userId}/{unix ms}")
		require.Equal(t, http.MethodPut, up.Method)
		require.WithinDuration(t, e.clock.Now().Add(urlTTL), up.ExpiresAt, time.Second)
		require.Equal(t, "35", header(&up.SignedRequest, "Content-Length"))

		usage, err := e.svc.Usage(ctx, user)
		require.NoError(t, err)
		require.Equal(t, int64(len(blob)), usage.UsedBytes, "a pending upload counts")
		require.Equal(t, 5*gib, *usage.LimitBytes)

		_, err = e.svc.DownloadRequest(ctx, user, up.Backup.ID)
		testkit.RequireCode(t, err, models.CodeConflict)

		status, body := send(t, &up.SignedRequest, blob)
		require.Less(t, status, 300, string(body))
		done, err := e.svc.CompleteUpload(ctx, user, up.Backup.ID)
		require.NoError(t, err)
		require.Equal(t, models.BackupCompleted, done.Status)
		require.NotNil(t, done.CompletedAt)
		require.Equal(t, ts, done.Timestamp)
		again, err := e.svc.CompleteUpload(ctx, user, up.Backup.ID)
		require.NoError(t, err, "completing twice is harmless")
		require.Equal(t, done.CompletedAt, again.CompletedAt)

		page, err := e.svc.Backups(ctx, user, 0, "")
		require.NoError(t, err)
		require.Len(t, page.Edges, 1)
		require.Equal(t, up.Backup.ID, page.Edges[0].Node.ID)

		latest, found, err := e.svc.LatestBackup(ctx, user, nil)
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, up.Backup.ID, latest.ID)

		get, err := e.svc.DownloadRequest(ctx, user, up.Backup.ID)
		require.NoError(t, err)
		status, body = send(t, get, nil)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, blob, body)

		deleted, err := e.svc.DeleteBackup(ctx, user, up.Backup.ID)
		require.NoError(t, err)
		require.Equal(t, up.Backup.ID, deleted.ID)
		require.False(t, e.objectExists(t, up.Backup.ObjectKey), "the object goes with the metadata")
		_, err = e.svc.Backup(ctx, user, up.Backup.ID)
		testkit.RequireCode(t, err, models.CodeNotFound)
		status, _ = send(t, get, nil)
		require.Equal(t, http.StatusNotFound, status)
		usage, err = e.svc.Usage(ctx, user)
		require.NoError(t, err)
		require.Zero(t, usage.UsedBytes)
	})
}

func TestCompletionChecksTheObject(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		user := e.newUser(t, models.TierPower)
		blob := []byte("the blob the client declared")
		for i, tc := range []struct {
			name   string
			plant  []byte // what ends up at the key; nil for nothing
			reason string
		}{
			{"nothing uploaded", nil, "no blob was uploaded"},
			{"wrong size", append([]byte("more than "), blob...), "bytes, not the"},
			{"wrong checksum", []byte(strings.ToUpper(string(blob))), "SHA-256 is not the declared checksum"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				up, err := e.svc.RequestUpload(ctx, user, input(blob, time.UnixMilli(int64(1_700_000_000_000+i))))
				require.NoError(t, err)
				if tc.plant != nil {
					e.putRaw(t, up.Backup.ObjectKey, tc.plant)
				}
				_, err = e.svc.CompleteUpload(ctx, user, up.Backup.ID)
				appErr := testkit.RequireCode(t, err, models.CodeConflict)
				require.Contains(t, appErr.Message, tc.reason)
				b, err := e.svc.Backup(ctx, user, up.Backup.ID)
				require.NoError(t, err)
				require.Equal(t, models.BackupFailed, b.Status)
				require.Contains(t, b.FailureReason, tc.reason)
				require.False(t, e.objectExists(t, up.Backup.ObjectKey), "a failed upload's object is deleted")
				_, err = e.svc.CompleteUpload(ctx, user, up.Backup.ID)
				testkit.RequireCode(t, err, models.CodeConflict)
				_, err = e.svc.DownloadRequest(ctx, user, up.Backup.ID)
				testkit.RequireCode(t, err, models.CodeConflict)
			})
		}

		t.Run("a failed timestamp can be uploaded again", func(t *testing.T) {
			ts := time.UnixMilli(1_700_000_000_000)
			b := e.upload(t, user, blob, ts)
			_, err := e.svc.RequestUpload(ctx, user, input(blob, ts))
			testkit.RequireCode(t, err, models.CodeConflict, "")
			_, err = e.svc.DeleteBackup(ctx, user, b.ID)
			require.NoError(t, err)
		})
	})
}

func TestQuotas(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()

		t.Run("free has none", func(t *testing.T) {
			user := e.newUser(t, models.TierFree)
			_, err := e.svc.RequestUpload(ctx, user, input([]byte("x"), time.UnixMilli(1)))
			appErr := testkit.RequireCode(t, err, models.CodeQuotaExceeded)
			require.Equal(t, &models.Quota{Used: 1, Limit: 0}, appErr.Quota)
			require.Contains(t, appErr.Message, "FREE tier includes no backup storage")
		})

		t.Run("pro at request: pending uploads count", func(t *testing.T) {
			user := e.newUser(t, models.TierPro)
			in := input([]byte("x"), time.UnixMilli(1))
			in.SizeBytes = 3 * gib
			_, err := e.svc.RequestUpload(ctx, user, in)
			require.NoError(t, err)
			in.Timestamp = time.UnixMilli(2).UTC().Format(time.RFC3339Nano)
			_, err = e.svc.RequestUpload(ctx, user, in)
			appErr := testkit.RequireCode(t, err, models.CodeQuotaExceeded)
			require.Equal(t, &models.Quota{Used: 6 * gib, Limit: 5 * gib}, appErr.Quota)

			// Once the first URL has expired it no longer holds quota (completing it
			// would check again).
			e.clock.Add(urlTTL + time.Second)
			_, err = e.svc.RequestUpload(ctx, user, in)
			require.NoError(t, err)
		})

		t.Run("team is unlimited", func(t *testing.T) {
			user := e.newUser(t, models.TierTeam)
			in := input([]byte("x"), time.UnixMilli(1))
			in.SizeBytes = backup.MaxSizeBytes
			for i := range 20 {
				in.Timestamp = time.UnixMilli(int64(i + 1)).UTC().Format(time.RFC3339Nano)
				_, err := e.svc.RequestUpload(ctx, user, in)
				require.NoError(t, err)
			}
			usage, err := e.svc.Usage(ctx, user)
			require.NoError(t, err)
			require.Nil(t, usage.LimitBytes)
			require.Equal(t, 20*backup.MaxSizeBytes, usage.UsedBytes)
		})

		t.Run("again at completion: the tier fell to free meanwhile", func(t *testing.T) {
			user := e.newUser(t, models.TierPro)
			blob := []byte("uploaded while on pro")
			up, err := e.svc.RequestUpload(ctx, user, input(blob, time.UnixMilli(5)))
			require.NoError(t, err)
			status, body := send(t, &up.SignedRequest, blob)
			require.Less(t, status, 300, string(body))
			e.setTier(t, user, models.TierFree)
			_, err = e.svc.CompleteUpload(ctx, user, up.Backup.ID)
			appErr := testkit.RequireCode(t, err, models.CodeQuotaExceeded)
			require.Equal(t, &models.Quota{Used: int64(len(blob)), Limit: 0}, appErr.Quota)
			b, err := e.svc.Backup(ctx, user, up.Backup.ID)
			require.NoError(t, err)
			require.Equal(t, models.BackupFailed, b.Status)
			require.False(t, e.objectExists(t, b.ObjectKey))
		})

		t.Run("concurrent requests cannot each fit alone", func(t *testing.T) {
			user := e.newUser(t, models.TierPro)
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for i := range 8 {
				wg.Go(func() {
					in := input([]byte("x"), time.UnixMilli(int64(100+i)))
					in.SizeBytes = gib
					_, err := e.svc.RequestUpload(ctx, user, in)
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			ok := 0
			for err := range errs {
				if err == nil {
					ok++
					continue
				}
				testkit.RequireCode(t, err, models.CodeQuotaExceeded)
			}
			require.Equal(t, 5, ok, "5 GiB fit, whatever the interleaving")
		})
	})
}

func TestInputsAreValidated(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, "local")
		ctx := context.Background()
		user := e.newUser(t, models.TierPro)
		good := input([]byte("blob"), time.UnixMilli(1_700_000_000_000))
		for _, tc := range []struct {
			name  string
			edit  func(*models.BackupUploadInput)
			field string
		}{
			{"version zero", func(in *models.BackupUploadInput) { in.Version = 0 }, "version"},
			{"negative version", func(in *models.BackupUploadInput) { in.Version = -3 }, "version"},
			{"timestamp with ../", func(in *models.BackupUploadInput) { in.Timestamp = "../../etc/passwd" }, "timestamp"},
			{"timestamp with a slash", func(in *models.BackupUploadInput) { in.Timestamp = "2026-11-22T09:00:00Z/../x" }, "timestamp"},
			{"timestamp with NUL", func(in *models.BackupUploadInput) { in.Timestamp = "2026-11-22T09:00:00Z\x00" }, "timestamp"},
			{"unix timestamp", func(in *models.BackupUploadInput) { in.Timestamp = "1700000000000" }, "timestamp"},
			{"timestamp far ahead", func(in *models.BackupUploadInput) {
				in.Timestamp = e.clock.Now().Add(48 * time.Hour).Format(time.RFC3339)
			}, "timestamp"},
			{"timestamp before 1970", func(in *models.BackupUploadInput) { in.Timestamp = "1969-12-31T23:59:59Z" }, "timestamp"},
			{"checksum with ../", func(in *models.BackupUploadInput) { in.Checksum = "../" + in.Checksum[3:] }, "checksum"},
			{"checksum in base64", func(in *models.BackupUploadInput) { in.Checksum = "LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=" }, "checksum"},
			{"short checksum", func(in *models.BackupUploadInput) { in.Checksum = in.Checksum[:62] }, "checksum"},
			{"zero size", func(in *models.BackupUploadInput) { in.SizeBytes = 0 }, "sizeBytes"},
			{"size over 5 GiB", func(in *models.BackupUploadInput) { in.SizeBytes = backup.MaxSizeBytes + 1 }, "sizeBytes"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := good
				tc.edit(&in)
				_, err := e.svc.RequestUpload(ctx, user, in)
				testkit.RequireCode(t, err, models.CodeBadUserInput, tc.field)
			})
		}

		t.Run("upper-case checksums are stored lower-case", func(t *testing.T) {
			in := good
			in.Checksum = strings.ToUpper(in.Checksum)
			up, err := e.svc.RequestUpload(ctx, user, in)
			require.NoError(t, err)
			require.Equal(t, good.Checksum, up.Backup.Checksum)
		})

		t.Run("IDs and cursors", func(t *testing.T) {
			for _, id := range []string{"../x", "", "0192f0e0-0000-7000-8000-000000000000/../x", "{0192f0e0-0000-7000-8000-000000000000}"} {
				_, err := e.svc.CompleteUpload(ctx, user, id)
				testkit.RequireCode(t, err, models.CodeNotFound, "id")
				_, err = e.svc.DownloadRequest(ctx, user, id)
				testkit.RequireCode(t, err, models.CodeNotFound, "id")
				_, err = e.svc.DeleteBackup(ctx, user, id)
				testkit.RequireCode(t, err, models.CodeNotFound, "id")
			}
			_, err := e.svc.Backups(ctx, user, 10, "../")
			testkit.RequireCode(t, err, models.CodeBadUserInput, "after")
			_, err = e.svc.Backups(ctx, user, 101, "")
			testkit.RequireCode(t, err, models.CodeBadUserInput, "first")
		})
	})
}

func TestAnotherUsersBackupIsNotFound(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, "local")
		ctx := context.Background()
		owner, other := e.newUser(t, models.TierPro), e.newUser(t, models.TierPro)
		b := e.upload(t, owner, []byte("mine"), time.UnixMilli(1_700_000_000_000))

		_, err := e.svc.Backup(ctx, other, b.ID)
		testkit.RequireCode(t, err, models.CodeNotFound)
		_, err = e.svc.CompleteUpload(ctx, other, b.ID)
		testkit.RequireCode(t, err, models.CodeNotFound)
		_, err = e.svc.DownloadRequest(ctx, other, b.ID)
		testkit.RequireCode(t, err, models.CodeNotFound)
		_, err = e.svc.DeleteBackup(ctx, other, b.ID)
		testkit.RequireCode(t, err, models.CodeNotFound)
		page, err := e.svc.Backups(ctx, other, 0, "")
		require.NoError(t, err)
		require.Empty(t, page.Edges)
		latest, found, err := e.svc.LatestBackup(ctx, other, nil)
		require.NoError(t, err)
		require.False(t, found)
		require.Nil(t, latest)
		require.True(t, e.objectExists(t, b.ObjectKey), "still there")
	})
}

func TestHistoryPagesAndLatest(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, "local")
		ctx := context.Background()
		user := e.newUser(t, models.TierPro)
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		var ids []string // newest first
		for i := range 5 {
			b := e.upload(t, user, blobN(i), base.Add(time.Duration(i)*time.Hour))
			ids = append([]string{b.ID}, ids...)
		}
		// A newer upload that never completes is history, not the latest backup.
		pending, err := e.svc.RequestUpload(ctx, user, input(blobN(9), base.Add(10*time.Hour)))
		require.NoError(t, err)
		ids = append([]string{pending.Backup.ID}, ids...)

		var got []string
		after := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 4)
			page, err := e.svc.Backups(ctx, user, 2, after)
			require.NoError(t, err)
			for _, edge := range page.Edges {
				got = append(got, edge.Node.ID)
			}
			if !page.PageInfo.HasNextPage {
				break
			}
			after = *page.PageInfo.EndCursor
		}
		require.Equal(t, ids, got)

		latest, found, err := e.svc.LatestBackup(ctx, user, nil)
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, ids[1], latest.ID)
		require.Equal(t, base.Add(4*time.Hour), latest.Timestamp)

		since := base.Add(4 * time.Hour)
		none, found, err := e.svc.LatestBackup(ctx, user, &since)
		require.NoError(t, err)
		require.False(t, found, "nothing newer than what the client has")
		require.Nil(t, none)
		since = base.Add(3 * time.Hour)
		newer, found, err := e.svc.LatestBackup(ctx, user, &since)
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, ids[1], newer.ID)
	})
}

func TestSweepRemovesUnfinishedUploads(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		user := e.newUser(t, models.TierPro)
		kept := e.upload(t, user, []byte("completed"), time.UnixMilli(1))

		// Uploaded but never completed, and never uploaded at all.
		abandoned, err := e.svc.RequestUpload(ctx, user, input([]byte("abandoned"), time.UnixMilli(2)))
		require.NoError(t, err)
		status, body := send(t, &abandoned.SignedRequest, []byte("abandoned"))
		require.Less(t, status, 300, string(body))
		_, err = e.svc.RequestUpload(ctx, user, input([]byte("never sent"), time.UnixMilli(3)))
		require.NoError(t, err)

		n, err := e.svc.Sweep(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "not before the timeout")

		e.clock.Add(pendingTimeout)
		recent, err := e.svc.RequestUpload(ctx, user, input([]byte("recent"), time.UnixMilli(4)))
		require.NoError(t, err)
		n, err = e.svc.Sweep(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.False(t, e.objectExists(t, abandoned.Backup.ObjectKey))
		_, err = e.svc.Backup(ctx, user, abandoned.Backup.ID)
		testkit.RequireCode(t, err, models.CodeNotFound)
		_, err = e.svc.Backup(ctx, user, kept.ID)
		require.NoError(t, err)
		_, err = e.svc.Backup(ctx, user, recent.Backup.ID)
		require.NoError(t, err, "a recent request is not swept")
		require.True(t, e.objectExists(t, kept.ObjectKey))

		n, err = e.svc.Sweep(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "a second sweep finds nothing")
	})
}

func TestServiceConfiguration(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	store := newLocalStore(t, time.Now)
	_, err := backup.NewService(backup.Config{URLTTL: time.Hour, PendingTimeout: time.Hour}, backup.Deps{DB: db, Store: store, Tiers: testkit.NewTiers()})
	require.ErrorContains(t, err, "must exceed")
	_, err = backup.NewService(backup.Config{}, backup.Deps{DB: db, Tiers: testkit.NewTiers()})
	require.Error(t, err)
}
