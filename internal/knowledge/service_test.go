package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

const gardening = `# Gardening notes

## Tomatoes

Tomatoes need six to eight hours of direct sunlight and deep, infrequent watering.
Stake them early so the stems do not snap under the weight of the fruit.

## Roses

Prune roses in late winter, just before the buds break. Cut above an outward-facing bud.
`

const cooking = `# Cooking

Bread rises because yeast ferments the sugars in flour and releases carbon dioxide.
A longer, cooler rise gives the loaf more flavour.
`

func TestIngestAndSearch(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{ChunkBytes: 200, OverlapBytes: 20})
		user := e.newUser(t, models.TierPro)
		garden := e.ingest(t, user, "Garden", "text/markdown", gardening, "home")
		bread := e.ingest(t, user, "Bread", "text/markdown; charset=utf-8", cooking, "kitchen")
		require.Equal(t, "offline", garden.Embedder)
		require.Positive(t, garden.ChunkCount)
		require.Equal(t, []string{"home"}, garden.Tags)
		chunks, fts := e.chunkRows(t, garden.ID)
		require.Equal(t, garden.ChunkCount, chunks)
		if db.Dialect().Name().String() == "sqlite" {
			require.Equal(t, chunks, fts, "every chunk is in the FTS5 index")
		}

		got, err := e.svc.Search(ctx, user, "how much sunlight do tomatoes need", 3, nil, "")
		require.NoError(t, err)
		require.NotEmpty(t, got)
		top := got[0]
		require.Equal(t, garden.ID, top.DocumentID)
		require.Equal(t, "Garden", top.DocumentTitle)
		require.Contains(t, top.Text, "sunlight")
		require.Equal(t, "offline", top.Embedder)
		require.Positive(t, top.Score)
		require.Less(t, top.Start, top.End)
		for i := 1; i < len(got); i++ {
			require.GreaterOrEqual(t, got[i-1].Score, got[i].Score, "best first")
		}

		got, err = e.svc.Search(ctx, user, "yeast", 5, nil, "")
		require.NoError(t, err)
		require.Equal(t, bread.ID, got[0].DocumentID)

		// Filters: by document and by tag.
		got, err = e.svc.Search(ctx, user, "yeast sunlight", 5, []string{garden.ID}, "")
		require.NoError(t, err)
		for _, p := range got {
			require.Equal(t, garden.ID, p.DocumentID)
		}
		got, err = e.svc.Search(ctx, user, "yeast sunlight", 5, nil, "kitchen")
		require.NoError(t, err)
		require.NotEmpty(t, got)
		for _, p := range got {
			require.Equal(t, bread.ID, p.DocumentID)
		}
		got, err = e.svc.Search(ctx, user, "yeast", 5, nil, "no such tag")
		require.NoError(t, err)
		require.Empty(t, got)

		_, err = e.svc.Search(ctx, user, "  ", 5, nil, "")
		testkit.RequireCode(t, err, models.CodeBadUserInput, "query")
		_, err = e.svc.Search(ctx, user, "yeast", 51, nil, "")
		testkit.RequireCode(t, err, models.CodeBadUserInput, "first")
		_, err = e.svc.Search(ctx, user, "yeast", 5, []string{"nope"}, "")
		testkit.RequireCode(t, err, models.CodeNotFound, "documentIds")

		// Search characters that mean something to FTS5 or tsquery are words only.
		_, err = e.svc.Search(ctx, user, `"tomato* OR (NEAR) & | ! :roses' -`, 5, nil, "")
		require.NoError(t, err)
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{MaxFileBytes: 1000})
		user := e.newUser(t, models.TierFree)
		kept := e.ingest(t, user, "Kept", "text/plain", cooking)
		in := func(body, mt string) models.AddDocumentInput {
			sum := sha256.Sum256([]byte(body))
			return models.AddDocumentInput{Title: "t", MediaType: mt, SizeBytes: int64(len(body)), Checksum: hex.EncodeToString(sum[:])}
		}
		before := e.snapshot(t, user)

		_, err := e.svc.AddDocument(ctx, user, in("x", "image/png"))
		testkit.RequireCode(t, err, models.CodeBadUserInput, "mediaType")
		_, err = e.svc.AddDocument(ctx, user, in("x", "not a type"))
		testkit.RequireCode(t, err, models.CodeBadUserInput, "mediaType")
		_, err = e.svc.AddDocument(ctx, user, in(strings.Repeat("x", 1001), "text/plain"))
		testkit.RequireCode(t, err, models.CodeBadUserInput, "sizeBytes")
		bad := in("x", "text/plain")
		bad.Checksum = "abc"
		_, err = e.svc.AddDocument(ctx, user, bad)
		testkit.RequireCode(t, err, models.CodeBadUserInput, "checksum")
		bad = in("x", "text/plain")
		bad.Title = "  "
		_, err = e.svc.AddDocument(ctx, user, bad)
		testkit.RequireCode(t, err, models.CodeBadUserInput, "title")
		bad = in("x", "text/plain")
		bad.Tags = []string{strings.Repeat("t", 41)}
		_, err = e.svc.AddDocument(ctx, user, bad)
		testkit.RequireCode(t, err, models.CodeBadUserInput, "tags")
		require.Equal(t, before, e.snapshot(t, user))

		// A file without text, and one that is not what was declared: refused at
		// completion, and the document and its file are gone.
		for _, c := range []struct {
			declared, sent string
			code, field    string
		}{
			{"   \n\t ", "   \n\t ", models.CodeBadUserInput, "file"},
			{"hello", "jello", models.CodeConflict, "id"},
		} {
			up, err := e.svc.AddDocument(ctx, user, in(c.declared, "text/plain"))
			require.NoError(t, err)
			require.NoError(t, e.blobs.Put(ctx, strings.TrimPrefix(up.URL, "mem://"), []byte(c.sent)))
			_, err = e.svc.CompleteDocumentUpload(ctx, user, up.Document.ID)
			if c.field != "" {
				testkit.RequireCode(t, err, c.code, c.field)
			} else {
				testkit.RequireCode(t, err, c.code)
			}
			require.Equal(t, before, e.snapshot(t, user))
		}
		// Completing before the upload: CONFLICT, and the document waits.
		up, err := e.svc.AddDocument(ctx, user, in("later", "text/plain"))
		require.NoError(t, err)
		_, err = e.svc.CompleteDocumentUpload(ctx, user, up.Document.ID)
		testkit.RequireCode(t, err, models.CodeConflict, "id")
		_, err = e.svc.DeleteDocument(ctx, user, up.Document.ID)
		require.NoError(t, err)
		require.Equal(t, before, e.snapshot(t, user))

		// URLs: private, unreachable, unsupported, empty.
		e.fetcher.pages["https://example.com/pic"] = &Fetched{URL: "https://example.com/pic", MediaType: "image/png", Body: []byte("x")}
		e.fetcher.pages["https://example.com/blank"] = &Fetched{URL: "https://example.com/blank", MediaType: "text/plain", Body: []byte("  ")}
		for _, u := range []string{"http://127.0.0.1/", "https://example.com/missing", "https://example.com/pic", "https://example.com/blank", ""} {
			_, err := e.svc.AddDocumentFromURL(ctx, user, models.AddDocumentFromURLInput{URL: u})
			testkit.RequireCode(t, err, models.CodeBadUserInput, "url")
		}
		require.Equal(t, before, e.snapshot(t, user))

		// Quotas: FREE keeps 20 documents.
		for i := 1; i < 20; i++ {
			e.add(t, user, fmt.Sprint("doc ", i), "text/plain", "text")
		}
		before = e.snapshot(t, user)
		_, err = e.svc.AddDocument(ctx, user, in("one too many", "text/plain"))
		me := testkit.RequireCode(t, err, models.CodeQuotaExceeded, "documents")
		require.Equal(t, int64(21), me.Quota.Used)
		e.fetcher.pages["https://example.com/ok"] = &Fetched{URL: "https://example.com/ok", MediaType: "text/plain", Body: []byte("words")}
		_, err = e.svc.AddDocumentFromURL(ctx, user, models.AddDocumentFromURLInput{URL: "https://example.com/ok"})
		testkit.RequireCode(t, err, models.CodeQuotaExceeded, "documents")
		require.Equal(t, before, e.snapshot(t, user))
		_, err = e.svc.DeleteDocument(ctx, user, kept.ID)
		require.NoError(t, err)
		e.tiers.Set(user, models.TierPro)
		_, err = e.svc.AddDocument(ctx, user, in("fits now", "text/plain"))
		require.NoError(t, err)
	})
}

func TestBytesQuota(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	e := newEnv(t, db, Config{MaxFileBytes: 40 << 20})
	user := e.newUser(t, models.TierFree)
	_, err := e.svc.AddDocument(context.Background(), user, models.AddDocumentInput{Title: "big", MediaType: "text/plain",
		SizeBytes: 50<<20 + 1, Checksum: strings.Repeat("a", 64)})
	require.Error(t, err)
	_, err = e.svc.AddDocument(context.Background(), user, models.AddDocumentInput{Title: "big", MediaType: "text/plain",
		SizeBytes: 30 << 20, Checksum: strings.Repeat("a", 64)})
	require.NoError(t, err)
	_, err = e.svc.AddDocument(context.Background(), user, models.AddDocumentInput{Title: "big", MediaType: "text/plain",
		SizeBytes: 30 << 20, Checksum: strings.Repeat("a", 64)})
	testkit.RequireCode(t, err, models.CodeQuotaExceeded, "sizeBytes")
}

// snapshot is everything stored of the user's documents.
func (e *env) snapshot(t testing.TB, userID string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	var docs []models.Document
	// Deleted documents kept until their upload URL expired are no one's to see.
	require.NoError(t, visible(e.db.NewSelect().Model(&docs).Where("user_id = ?", userID)).Order("id").Scan(ctx))
	for _, d := range docs {
		fmt.Fprintf(&b, "doc %s %q %s %s %d %v|", d.ID, d.Title, d.State, d.Error, d.ChunkCount, d.UpdatedAt.UnixMicro())
	}
	for _, table := range []string{"document_tags", "document_chunks", "ingestion_jobs"} {
		var rows []map[string]any
		require.NoError(t, e.db.NewSelect().Table(table).Where("user_id = ?", userID).Scan(ctx, &rows))
		fmt.Fprintf(&b, "%s %d %v|", table, len(rows), rows)
	}
	fmt.Fprintf(&b, "blobs %d", e.blobs.count())
	return b.String()
}

func TestIsolation(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{})
		owner := e.newUser(t, models.TierPro)
		other := e.newUser(t, models.TierPro)
		d := e.ingest(t, owner, "Mine", "text/markdown", gardening, "secret")
		pending := e.add(t, owner, "Queued", "text/plain", cooking)
		_ = e.ingest(t, other, "Theirs", "text/plain", "nothing about plants here")
		before := e.snapshot(t, owner)
		for _, id := range []string{d.ID, pending.ID} {
			ops := map[string]func() error{
				"document":               func() error { _, err := e.svc.Document(ctx, other, id); return err },
				"renameDocument":         func() error { _, err := e.svc.RenameDocument(ctx, other, id, "stolen"); return err },
				"setDocumentTags":        func() error { _, err := e.svc.SetDocumentTags(ctx, other, id, []string{"x"}); return err },
				"reingestDocument":       func() error { _, err := e.svc.ReingestDocument(ctx, other, id); return err },
				"deleteDocument":         func() error { _, err := e.svc.DeleteDocument(ctx, other, id); return err },
				"completeDocumentUpload": func() error { _, err := e.svc.CompleteDocumentUpload(ctx, other, id); return err },
				"documentIngestion":      func() error { _, err := e.svc.Ingestion(ctx, other, id); return err },
			}
			for name, op := range ops {
				testkit.RequireCode(t, op(), models.CodeNotFound, "id")
				require.Equal(t, before, e.snapshot(t, owner), name)
			}
			_, err := e.svc.Search(ctx, other, "tomatoes", 5, []string{id}, "")
			testkit.RequireCode(t, err, models.CodeNotFound, "documentIds")
		}
		// Another user's search, list and tag filter never show the owner's documents.
		got, err := e.svc.Search(ctx, other, "tomatoes sunlight roses", 50, nil, "")
		require.NoError(t, err)
		for _, p := range got {
			require.NotEqual(t, d.ID, p.DocumentID)
		}
		got, err = e.svc.Search(ctx, other, "tomatoes", 50, nil, "secret")
		require.NoError(t, err)
		require.Empty(t, got)
		list, err := e.svc.Documents(ctx, other, 100, "", "")
		require.NoError(t, err)
		require.Len(t, list.Edges, 1)
		require.Equal(t, "Theirs", list.Edges[0].Node.Title)
		list, err = e.svc.Documents(ctx, other, 100, "", "secret")
		require.NoError(t, err)
		require.Empty(t, list.Edges)
		require.Equal(t, before, e.snapshot(t, owner))
	})
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{ChunkBytes: 200, OverlapBytes: 20})
		user := e.newUser(t, models.TierPro)
		a := e.ingest(t, user, "A", "text/markdown", gardening, "b", "a")
		b := e.ingest(t, user, "B", "text/plain", cooking)
		c := e.ingest(t, user, "C", "text/plain", cooking, "a")
		require.Equal(t, []string{"a", "b"}, a.Tags, "sorted")

		page, err := e.svc.Documents(ctx, user, 2, "", "")
		require.NoError(t, err)
		require.Equal(t, []string{c.ID, b.ID}, ids(page))
		require.True(t, page.PageInfo.HasNextPage)
		page, err = e.svc.Documents(ctx, user, 2, *page.PageInfo.EndCursor, "")
		require.NoError(t, err)
		require.Equal(t, []string{a.ID}, ids(page))
		require.False(t, page.PageInfo.HasNextPage)
		page, err = e.svc.Documents(ctx, user, 10, "", "a")
		require.NoError(t, err)
		require.Equal(t, []string{c.ID, a.ID}, ids(page))
		_, err = e.svc.Documents(ctx, user, 10, "garbage", "")
		testkit.RequireCode(t, err, models.CodeBadUserInput, "after")

		r, err := e.svc.RenameDocument(ctx, user, a.ID, "  Garden   notes ")
		require.NoError(t, err)
		require.Equal(t, "Garden notes", r.Title)
		_, err = e.svc.RenameDocument(ctx, user, a.ID, "")
		testkit.RequireCode(t, err, models.CodeBadUserInput, "title")
		r, err = e.svc.SetDocumentTags(ctx, user, a.ID, []string{"z", "z", " y "})
		require.NoError(t, err)
		require.Equal(t, []string{"y", "z"}, r.Tags)
		got, err := e.svc.Search(ctx, user, "roses", 5, nil, "y")
		require.NoError(t, err)
		require.Equal(t, "Garden notes", got[0].DocumentTitle)

		// Re-ingesting replaces the chunks; while it waits, the old ones answer.
		r, err = e.svc.ReingestDocument(ctx, user, a.ID)
		require.NoError(t, err)
		require.Equal(t, models.DocumentQueued, r.State)
		_, err = e.svc.ReingestDocument(ctx, user, a.ID)
		testkit.RequireCode(t, err, models.CodeConflict, "id")
		got, err = e.svc.Search(ctx, user, "roses", 5, []string{a.ID}, "")
		require.NoError(t, err)
		require.NotEmpty(t, got)
		e.drain(t)
		r, err = e.svc.Document(ctx, user, a.ID)
		require.NoError(t, err)
		require.Equal(t, models.DocumentReady, r.State)
		chunks, _ := e.chunkRows(t, a.ID)
		require.Equal(t, r.ChunkCount, chunks, "the old chunks are gone")

		// Deleting removes the chunks, their FTS5 entries and the file.
		blobs := e.blobs.count()
		gone, err := e.svc.DeleteDocument(ctx, user, a.ID)
		require.NoError(t, err)
		require.Equal(t, "Garden notes", gone.Title)
		chunks, fts := e.chunkRows(t, a.ID)
		require.Zero(t, chunks)
		require.Zero(t, fts)
		require.Equal(t, blobs-1, e.blobs.count())
		_, err = e.svc.Document(ctx, user, a.ID)
		testkit.RequireCode(t, err, models.CodeNotFound, "id")
		got, err = e.svc.Search(ctx, user, "roses tomatoes", 50, nil, "")
		require.NoError(t, err)
		for _, p := range got {
			require.NotEqual(t, a.ID, p.DocumentID)
		}
	})
}

func ids(c *models.DocumentConnection) []string {
	out := []string{}
	for _, e := range c.Edges {
		out = append(out, e.Node.ID)
	}
	return out
}

// TestResumesAfterRestart: a job whose worker stopped (its lease expired) is taken
// over by another instance's worker.
func TestResumesAfterRestart(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{Lease: time.Minute})
		user := e.newUser(t, models.TierPro)
		d := e.add(t, user, "Garden", "text/markdown", gardening)
		// A worker claimed it and died.
		now := time.Now().UTC()
		job, found, err := claimJob(ctx, db, "dead-instance", now, now.Add(time.Minute))
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, d.ID, job.DocumentID)
		worked, err := e.svc.Work(ctx)
		require.NoError(t, err)
		require.False(t, worked, "the lease holds")

		clock := testkit.NewClock(now.Add(2 * time.Minute))
		later, err := NewService(Config{}, Deps{DB: db, Blobs: e.blobs, Tiers: e.tiers, Events: e.bus, Embedder: testEmbedder(), Now: clock.Now})
		require.NoError(t, err)
		worked, err = later.Work(ctx)
		require.NoError(t, err)
		require.True(t, worked)
		got, err := later.Document(ctx, user, d.ID)
		require.NoError(t, err)
		require.Equal(t, models.DocumentReady, got.State)
		j, err := findJob(ctx, db, d.ID)
		require.NoError(t, err)
		require.Equal(t, 2, j.Attempts)
		require.Equal(t, jobDone, j.State)
	})
}

func TestTransientFailuresRetryThenFail(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Now().UTC())
		e := newEnv(t, db, Config{})
		svc, err := NewService(Config{MaxAttempts: 2, Lease: time.Minute}, Deps{DB: db, Blobs: e.blobs, Tiers: e.tiers, Events: e.bus,
			Embedder: testEmbedder(), Now: clock.Now})
		require.NoError(t, err)
		user := e.newUser(t, models.TierPro)
		d := e.add(t, user, "Garden", "text/markdown", gardening)
		e.blobs.failGet = errors.New("store away")
		worked, err := svc.Work(ctx)
		require.NoError(t, err)
		require.True(t, worked)
		got, _ := svc.Document(ctx, user, d.ID)
		require.Equal(t, models.DocumentExtracting, got.State, "left for another attempt")
		clock.Add(2 * time.Minute)
		_, err = svc.Work(ctx)
		require.NoError(t, err)
		got, _ = svc.Document(ctx, user, d.ID)
		require.Equal(t, models.DocumentFailed, got.State)
		require.Contains(t, got.Error, "failed 2 times")
		require.NotContains(t, got.Error, "store away", "internal errors stay internal")

		// Re-ingesting a failed document works once the store is back.
		e.blobs.failGet = nil
		_, err = svc.ReingestDocument(ctx, user, d.ID)
		require.NoError(t, err)
		_, err = svc.Work(ctx)
		require.NoError(t, err)
		got, _ = svc.Document(ctx, user, d.ID)
		require.Equal(t, models.DocumentReady, got.State)
	})
}

func TestIngestionProgress(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		e := newEnv(t, db, Config{ChunkBytes: 100, OverlapBytes: 10, EmbedBatch: 2})
		user := e.newUser(t, models.TierPro)
		d := e.add(t, user, "Garden", "text/markdown", gardening)
		events, err := e.svc.Ingestion(ctx, user, d.ID)
		require.NoError(t, err)
		require.Equal(t, models.DocumentQueued, (<-events).State)
		e.drain(t)
		var seen []string
		for ev := range events {
			seen = append(seen, fmt.Sprintf("%s %d/%d", ev.State, ev.Done, ev.Total))
		}
		require.Equal(t, "EXTRACTING 0/0", seen[0])
		last := seen[len(seen)-1]
		require.True(t, strings.HasPrefix(last, "READY "), seen)
		var n int
		_, _ = fmt.Sscanf(last, "READY %d/", &n)
		require.Greater(t, n, 2)
		require.Equal(t, fmt.Sprintf("EMBEDDING 0/%d", n), seen[1])
		require.Equal(t, fmt.Sprintf("EMBEDDING 2/%d", n), seen[2], "progress after each batch")

		// A finished document's stream says so and ends.
		events, err = e.svc.Ingestion(ctx, user, d.ID)
		require.NoError(t, err)
		require.Equal(t, models.DocumentReady, (<-events).State)
		_, open := <-events
		require.False(t, open)
	})
}

func TestAddFromURL(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{})
		user := e.newUser(t, models.TierPro)
		e.fetcher.pages["https://example.com/bread"] = &Fetched{URL: "https://example.com/bread", MediaType: "text/markdown", Body: []byte(cooking)}
		d, err := e.svc.AddDocumentFromURL(ctx, user, models.AddDocumentFromURLInput{URL: "https://example.com/bread", Tags: []string{"web"}})
		require.NoError(t, err)
		require.Equal(t, models.DocumentFromURL, d.Source)
		require.Equal(t, "https://example.com/bread", d.SourceURL)
		require.Equal(t, "Cooking", d.Title, "the page's own title")
		e.drain(t)
		got, err := e.svc.Search(ctx, user, "yeast", 1, nil, "web")
		require.NoError(t, err)
		require.Equal(t, d.ID, got[0].DocumentID)
	})
}

func TestSweepRemovesAbandonedUploads(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e, clock := newClockedEnv(t, db)
		svc := e.svc
		user := e.newUser(t, models.TierPro)
		done := e.add(t, user, "Completed", "text/plain", cooking)
		sum := sha256.Sum256([]byte("never sent"))
		up, err := svc.AddDocument(ctx, user, models.AddDocumentInput{Title: "Abandoned", MediaType: "text/plain", SizeBytes: 10,
			Checksum: hex.EncodeToString(sum[:])})
		require.NoError(t, err)
		// A late PUT may still have stored the file.
		require.NoError(t, e.blobs.Put(ctx, up.Document.BlobKey, []byte("never sent")))

		n, err := svc.Sweep(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "the URL still works")
		clock.Add(2*time.Minute + time.Second)
		n, err = svc.Sweep(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = svc.Document(ctx, user, up.Document.ID)
		testkit.RequireCode(t, err, models.CodeNotFound, "id")
		_, err = e.blobs.Get(ctx, up.Document.BlobKey, 100)
		require.ErrorIs(t, err, ErrBlobNotFound)
		_, err = svc.Document(ctx, user, done.ID)
		require.NoError(t, err, "a completed upload stays")
		n, err = svc.Sweep(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
	})
}
