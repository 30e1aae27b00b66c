package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// memBlobs is a blob store in memory: PresignPut answers a URL the test "uploads"
// to with upload.
type memBlobs struct {
	mu      sync.Mutex
	objects map[string][]byte
	failGet error
}

func newMemBlobs() *memBlobs { return &memBlobs{objects: map[string][]byte{}} }

func (b *memBlobs) PresignPut(_ context.Context, key string, _ int64, _ []byte, ttl time.Duration) (*models.SignedRequest, error) {
	return &models.SignedRequest{Method: "PUT", URL: "mem://" + key, ExpiresAt: time.Now().Add(ttl)}, nil
}

func (b *memBlobs) Put(_ context.Context, key string, data []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[key] = append([]byte(nil), data...)
	return nil
}

func (b *memBlobs) Get(_ context.Context, key string, limit int64) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failGet != nil {
		return nil, b.failGet
	}
	data, ok := b.objects[key]
	if !ok {
		return nil, ErrBlobNotFound
	}
	if int64(len(data)) > limit {
		return nil, errors.New("too large")
	}
	return data, nil
}

func (b *memBlobs) Delete(_ context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.objects, key)
	return nil
}

func (b *memBlobs) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.objects)
}

// fakeFetcher serves pages by URL.
type fakeFetcher struct {
	pages map[string]*Fetched
}

func (f *fakeFetcher) Fetch(_ context.Context, rawURL string) (*Fetched, error) {
	if strings.Contains(rawURL, "127.0.0.1") || strings.Contains(rawURL, "localhost") {
		return nil, models.InvalidInput("url", "%s is a private address", rawURL)
	}
	p, ok := f.pages[rawURL]
	if !ok {
		return nil, models.InvalidInput("url", "the site answered 404 Not Found")
	}
	return p, nil
}

// env is a knowledge service over a database, with its fakes.
type env struct {
	db      *bun.DB
	svc     *Service
	blobs   *memBlobs
	tiers   *testkit.Tiers
	fetcher *fakeFetcher
	bus     *events.Memory
}

// newClockedEnv is newEnv whose service reads a test clock and gives signed URLs a
// minute, for tests that move past their expiry.
func newClockedEnv(t testing.TB, db *bun.DB) (*env, *testkit.Clock) {
	t.Helper()
	clock := testkit.NewClock(time.Now().UTC())
	e := newEnv(t, db, Config{})
	svc, err := NewService(Config{URLTTL: time.Minute}, Deps{DB: db, Blobs: e.blobs, Tiers: e.tiers, Events: e.bus,
		Embedder: testEmbedder(), Now: clock.Now})
	require.NoError(t, err)
	e.svc = svc
	return e, clock
}

func newEnv(t testing.TB, db *bun.DB, cfg Config) *env {
	t.Helper()
	e := &env{db: db, blobs: newMemBlobs(), tiers: testkit.NewTiers(), fetcher: &fakeFetcher{pages: map[string]*Fetched{}},
		bus: events.NewMemory(slog.New(slog.DiscardHandler))}
	t.Cleanup(func() { _ = e.bus.Close() })
	svc, err := NewService(cfg, Deps{DB: db, Blobs: e.blobs, Fetcher: e.fetcher, Tiers: e.tiers, Events: e.bus,
		Embedder: testEmbedder()})
	require.NoError(t, err)
	e.svc = svc
	return e
}

func (e *env) newUser(t testing.TB, tier models.Tier) string {
	t.Helper()
	id := testkit.NewUser(t, e.db, tier, time.Now())
	e.tiers.Set(id, tier)
	return id
}

// add uploads body as a document of mediaType and completes it (the job queued).
func (e *env) add(t testing.TB, userID, title, mediaType, body string, tags ...string) *models.Document {
	t.Helper()
	ctx := context.Background()
	sum := sha256.Sum256([]byte(body))
	up, err := e.svc.AddDocument(ctx, userID, models.AddDocumentInput{Title: title, MediaType: mediaType,
		SizeBytes: int64(len(body)), Checksum: hex.EncodeToString(sum[:]), Tags: tags})
	require.NoError(t, err)
	require.NoError(t, e.blobs.Put(ctx, strings.TrimPrefix(up.URL, "mem://"), []byte(body)))
	d, err := e.svc.CompleteDocumentUpload(ctx, userID, up.Document.ID)
	require.NoError(t, err)
	require.Equal(t, models.DocumentQueued, d.State)
	return d
}

// drain runs the worker until no job is left.
func (e *env) drain(t testing.TB) {
	t.Helper()
	for {
		worked, err := e.svc.Work(context.Background())
		require.NoError(t, err)
		if !worked {
			return
		}
	}
}

// ingest adds a document and runs its ingestion to the end.
func (e *env) ingest(t testing.TB, userID, title, mediaType, body string, tags ...string) *models.Document {
	t.Helper()
	d := e.add(t, userID, title, mediaType, body, tags...)
	e.drain(t)
	d, err := e.svc.Document(context.Background(), userID, d.ID)
	require.NoError(t, err)
	require.Equal(t, models.DocumentReady, d.State, d.Error)
	return d
}

// rows counts the rows of table (the FTS5 index's too) that belong to the document.
func (e *env) chunkRows(t testing.TB, docID string) (chunks, fts int) {
	t.Helper()
	ctx := context.Background()
	n, err := e.db.NewSelect().Table("document_chunks").Where("document_id = ?", docID).Count(ctx)
	require.NoError(t, err)
	if e.db.Dialect().Name().String() == "sqlite" {
		require.NoError(t, e.db.NewRaw(`SELECT count(*) FROM document_chunks_fts f WHERE f.rowid IN (SELECT id FROM document_chunks WHERE document_id = ?)`, docID).Scan(ctx, &fts))
		// The FTS5 index holds exactly the chunks, no more: one docsize row per indexed
		// chunk, and integrity-check (with 1: against the content table) agrees.
		var total, indexed int
		require.NoError(t, e.db.NewRaw(`SELECT count(*) FROM document_chunks`).Scan(ctx, &total))
		require.NoError(t, e.db.NewRaw(`SELECT count(*) FROM document_chunks_fts_docsize`).Scan(ctx, &indexed))
		require.Equal(t, total, indexed, "the FTS5 index follows the chunks")
		_, err := e.db.ExecContext(ctx, `INSERT INTO document_chunks_fts (document_chunks_fts, rank) VALUES ('integrity-check', 1)`)
		require.NoError(t, err)
	}
	return int(n), fts
}
