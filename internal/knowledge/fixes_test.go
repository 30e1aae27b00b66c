package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func uploadInput(title, body string) models.AddDocumentInput {
	sum := sha256.Sum256([]byte(body))
	return models.AddDocumentInput{Title: title, MediaType: "text/plain", SizeBytes: int64(len(body)), Checksum: hex.EncodeToString(sum[:])}
}

// TestCompletingAfterTheURLExpiredIsRefused: an upload whose URL expired no longer
// counts towards the quota, so completing it then would bypass the quota.
func TestCompletingAfterTheURLExpiredIsRefused(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Now().UTC())
		e := newEnv(t, db, Config{})
		svc, err := NewService(Config{URLTTL: time.Minute}, Deps{DB: db, Blobs: e.blobs, Tiers: e.tiers, Events: e.bus,
			Embedder: testEmbedder(), Now: clock.Now})
		require.NoError(t, err)
		user := e.newUser(t, models.TierPro)
		up, err := svc.AddDocument(ctx, user, uploadInput("Late", cooking))
		require.NoError(t, err)
		require.NoError(t, e.blobs.Put(ctx, up.Document.BlobKey, []byte(cooking)))
		clock.Add(time.Minute)
		before := e.snapshot(t, user)
		_, err = svc.CompleteDocumentUpload(ctx, user, up.Document.ID)
		testkit.RequireCode(t, err, models.CodeConflict, "id")
		require.Equal(t, before, e.snapshot(t, user))
		got, err := svc.Document(ctx, user, up.Document.ID)
		require.NoError(t, err)
		require.Equal(t, models.DocumentUploading, got.State)
	})
}

// TestErrorsNameTheirField: the refusals of completeDocumentUpload name the
// document (field id), the fetch a server does not do the url.
func TestErrorsNameTheirField(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	ctx := context.Background()
	e := newEnv(t, db, Config{})
	user := e.newUser(t, models.TierPro)
	up, err := e.svc.AddDocument(ctx, user, uploadInput("Missing", cooking))
	require.NoError(t, err)
	_, err = e.svc.CompleteDocumentUpload(ctx, user, up.Document.ID)
	testkit.RequireCode(t, err, models.CodeConflict, "id")
	for _, sent := range []string{"short", cooking[:len(cooking)-1] + "!"} {
		up, err := e.svc.AddDocument(ctx, user, uploadInput("Different", cooking))
		require.NoError(t, err)
		require.NoError(t, e.blobs.Put(ctx, up.Document.BlobKey, []byte(sent)))
		_, err = e.svc.CompleteDocumentUpload(ctx, user, up.Document.ID)
		testkit.RequireCode(t, err, models.CodeConflict, "id")
	}
	noFetch, err := NewService(Config{}, Deps{DB: db, Blobs: e.blobs, Tiers: e.tiers, Events: e.bus, Embedder: testEmbedder()})
	require.NoError(t, err)
	_, err = noFetch.AddDocumentFromURL(ctx, user, models.AddDocumentFromURLInput{URL: "https://example.com/"})
	testkit.RequireCode(t, err, models.CodeBadUserInput, "url")
}

// TestSweepRemovesFilesPutAfterDeletion: a document deleted while its signed PUT
// still works (uploading, or completed) is kept hidden until the PUT expired, and
// the sweep then removes a file a late PUT stored.
func TestSweepRemovesFilesPutAfterDeletion(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Now().UTC())
		e := newEnv(t, db, Config{})
		svc, err := NewService(Config{URLTTL: time.Minute}, Deps{DB: db, Blobs: e.blobs, Tiers: e.tiers, Events: e.bus,
			Embedder: testEmbedder(), Now: clock.Now})
		require.NoError(t, err)
		e.svc = svc
		user := e.newUser(t, models.TierPro)
		before := e.snapshot(t, user)
		uploading, err := svc.AddDocument(ctx, user, uploadInput("Uploading", cooking))
		require.NoError(t, err)
		completed := e.add(t, user, "Completed", "text/plain", gardening, "tag")
		e.drain(t)
		for _, id := range []string{uploading.Document.ID, completed.ID} {
			_, err := svc.DeleteDocument(ctx, user, id)
			require.NoError(t, err)
			_, err = svc.Document(ctx, user, id)
			testkit.RequireCode(t, err, models.CodeNotFound, "id")
			_, err = svc.DeleteDocument(ctx, user, id)
			testkit.RequireCode(t, err, models.CodeNotFound, "id")
			_, err = svc.CompleteDocumentUpload(ctx, user, id)
			testkit.RequireCode(t, err, models.CodeNotFound, "id")
		}
		list, err := svc.Documents(ctx, user, 10, "", "")
		require.NoError(t, err)
		require.Empty(t, list.Edges)
		count, used, err := usage(ctx, db, user, clock.Now())
		require.NoError(t, err)
		require.Zero(t, count)
		require.Zero(t, used)
		require.Equal(t, before, e.snapshot(t, user))
		// Late PUTs on URLs that still work.
		require.NoError(t, e.blobs.Put(ctx, uploading.Document.BlobKey, []byte(cooking)))
		require.NoError(t, e.blobs.Put(ctx, completed.BlobKey, []byte(gardening)))
		n, err := svc.Sweep(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "the URLs still work")
		clock.Add(2*time.Minute + time.Second)
		n, err = svc.Sweep(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.Zero(t, e.blobs.count())
		rows, err := db.NewSelect().Model((*models.Document)(nil)).Where("user_id = ?", user).Count(ctx)
		require.NoError(t, err)
		require.Zero(t, rows)
	})
}

// TestIngestionEndsWhenTheDocumentIsDeleted: a deletion is the stream's last event.
func TestIngestionEndsWhenTheDocumentIsDeleted(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := newEnv(t, db, Config{})
	user := e.newUser(t, models.TierPro)
	d := e.add(t, user, "Garden", "text/markdown", gardening)
	events, err := e.svc.Ingestion(ctx, user, d.ID)
	require.NoError(t, err)
	require.Equal(t, models.DocumentQueued, (<-events).State)
	_, err = e.svc.DeleteDocument(context.Background(), user, d.ID)
	require.NoError(t, err)
	var last *models.DocumentIngestion
	for ev := range events {
		last = ev
	}
	require.NoError(t, ctx.Err(), "the stream ended by itself")
	require.NotNil(t, last)
	require.Equal(t, models.DocumentFailed, last.State)
	require.Equal(t, "deleted", last.Error)
}
