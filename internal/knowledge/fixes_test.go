package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
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
		e, clock := newClockedEnv(t, db)
		svc := e.svc
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

// TestControlCharactersAreRefused: NUL (which PostgreSQL refuses in text) and other
// control characters in titles and tags are bad input, not an internal error; a
// page's title has them removed.
func TestControlCharactersAreRefused(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{})
		user := e.newUser(t, models.TierPro)
		d := e.ingest(t, user, "Kept", "text/plain", cooking, "kitchen")
		before := e.snapshot(t, user)
		for _, bad := range []string{"a\x00b", "a\x07b", "a\x7fb", "a\u009bb", "a\xffb"} {
			in := uploadInput(bad, cooking)
			_, err := e.svc.AddDocument(ctx, user, in)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "title")
			in = uploadInput("ok", cooking)
			in.Tags = []string{bad}
			_, err = e.svc.AddDocument(ctx, user, in)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "tags")
			_, err = e.svc.RenameDocument(ctx, user, d.ID, bad)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "title")
			_, err = e.svc.SetDocumentTags(ctx, user, d.ID, []string{bad})
			testkit.RequireCode(t, err, models.CodeBadUserInput, "tags")
			_, err = e.svc.AddDocumentFromURL(ctx, user, models.AddDocumentFromURLInput{URL: "https://example.com/x", Title: &bad})
			testkit.RequireCode(t, err, models.CodeBadUserInput, "title")
			_, err = e.svc.AddDocumentFromURL(ctx, user, models.AddDocumentFromURLInput{URL: "https://example.com/x", Tags: []string{bad}})
			testkit.RequireCode(t, err, models.CodeBadUserInput, "tags")
			_, err = e.svc.Documents(ctx, user, 10, "", bad)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "tag")
			_, err = e.svc.Search(ctx, user, "yeast", 5, nil, bad)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "tag")
			_, err = e.svc.Search(ctx, user, bad+" yeast", 5, nil, "")
			require.NoError(t, err, "a query's control characters separate words")
		}
		require.Equal(t, before, e.snapshot(t, user))
		// Tabs and newlines are whitespace, folded.
		r, err := e.svc.RenameDocument(ctx, user, d.ID, "a\tb\nc")
		require.NoError(t, err)
		require.Equal(t, "a b c", r.Title)

		for _, body := range []string{
			"<html><head><title>Bad\x00 title\x01</title></head><body><p>Some words about bread.</p></body></html>",
			"# Bad\x00 title\x01\n\nSome words about bread.\n",
		} {
			mt := "text/markdown"
			if strings.HasPrefix(body, "<") {
				mt = "text/html"
			}
			e.fetcher.pages["https://example.com/nul"] = &Fetched{URL: "https://example.com/nul", MediaType: mt, Body: []byte(body)}
			page, err := e.svc.AddDocumentFromURL(ctx, user, models.AddDocumentFromURLInput{URL: "https://example.com/nul"})
			require.NoError(t, err)
			require.Equal(t, "Bad title", page.Title)
		}
	})
}

// TestFetchedTextIsDecoded: a page in another charset than UTF-8 is decoded by its
// declared charset (Content-Type, <meta>), or as windows-1252 when it is not UTF-8.
func TestFetchedTextIsDecoded(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	ctx := context.Background()
	e := newEnv(t, db, Config{})
	user := e.newUser(t, models.TierPro)
	long := strings.Repeat("plain words ", 200) // past the 1,024 bytes sniffed
	for _, c := range []struct{ mediaType, body, want string }{
		{"text/plain", "Caf\xe9 cr\xe8me br\xfbl\xe9e", "Café crème brûlée"},
		{"text/plain; charset=iso-8859-15", "Prix: 5 \xa4", "Prix: 5 €"},
		{"text/html", `<html><head><meta charset="windows-1251"></head><body><p>` + "\xcf\xf0\xe8\xe2\xe5\xf2" + `</p></body></html>`, "Привет"},
		{"text/plain", long + "Café", "Café"},
	} {
		url := "https://example.com/" + hex.EncodeToString([]byte(c.want))
		e.fetcher.pages[url] = &Fetched{URL: url, MediaType: c.mediaType, Body: []byte(c.body)}
		d, err := e.svc.AddDocumentFromURL(ctx, user, models.AddDocumentFromURLInput{URL: url, Title: &c.want})
		require.NoError(t, err)
		e.drain(t)
		var content []string
		require.NoError(t, db.NewSelect().Table("document_chunks").Column("content").Where("document_id = ?", d.ID).Scan(ctx, &content))
		require.NotEmpty(t, content)
		require.Contains(t, strings.Join(content, " "), c.want)
	}
}

// TestForgottenSpaceFilesAreDeleted: the files of a space deleted with its rows (a
// team's, ForgetSpace in the deleting transaction) are deleted by the sweep's next
// run, and once more after the space's last upload URL expired (a late PUT is
// deleted too), and no longer followed afterwards; another space's files stay.
func TestForgottenSpaceFilesAreDeleted(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e, clock := newClockedEnv(t, db)
		ctx := context.Background()
		space, other := e.newUser(t, models.TierPro), e.newUser(t, models.TierPro)
		gone := e.ingest(t, space, "Gone", "text/plain", "Notes the team kept about the launch plan.")
		kept := e.ingest(t, other, "Kept", "text/plain", "Notes another user keeps about the garden.")
		require.Equal(t, 2, e.blobs.count())

		require.NoError(t, database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
			if err := e.svc.ForgetSpace(ctx, tx, space); err != nil {
				return err
			}
			_, err := tx.NewDelete().Table("users").Where("id = ?", space).Exec(ctx) // the cascade takes the rows
			return err
		}))
		_, err := e.svc.Sweep(ctx)
		require.NoError(t, err)
		_, err = e.blobs.Get(ctx, gone.BlobKey, 1<<20)
		require.ErrorIs(t, err, ErrBlobNotFound, "the deleted space's file is gone")
		_, err = e.blobs.Get(ctx, kept.BlobKey, 1<<20)
		require.NoError(t, err, "another space's file stays")

		require.NoError(t, e.blobs.Put(ctx, gone.BlobKey, []byte("a late PUT")))
		_, err = e.svc.Sweep(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, e.blobs.count(), "deleted once: not again on every run before the URL expired")
		followed := func() int {
			n, err := db.NewSelect().Table("knowledge_forgotten_blobs").Count(ctx)
			require.NoError(t, err)
			return int(n)
		}
		require.Equal(t, 1, followed())
		clock.Add(2 * time.Minute)
		_, err = e.svc.Sweep(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, e.blobs.count(), "a late upload is deleted too")
		require.Zero(t, followed(), "no longer followed once every upload URL expired")
	})
}
