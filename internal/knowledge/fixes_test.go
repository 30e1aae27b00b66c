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
