package knowledge

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// TestInterruptedJobFailsAfterMaxAttempts: a job whose workers keep dying (a
// crash, a lease lost) is not claimed forever: past the attempts it is FAILED.
func TestInterruptedJobFailsAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{})
		user := e.newUser(t, models.TierPro)
		d := e.add(t, user, "Garden", "text/markdown", gardening)
		now := time.Now().UTC()
		for i := range 2 {
			at := now.Add(time.Duration(i) * 2 * time.Minute)
			_, found, err := claimJob(ctx, db, "dead-instance", at, at.Add(time.Minute))
			require.NoError(t, err)
			require.True(t, found)
		}
		clock := testkit.NewClock(now.Add(5 * time.Minute))
		svc, err := NewService(Config{MaxAttempts: 2}, Deps{DB: db, Blobs: e.blobs, Tiers: e.tiers, Events: e.bus,
			Embedder: testEmbedder(), Now: clock.Now})
		require.NoError(t, err)
		events, err := svc.Ingestion(ctx, user, d.ID)
		require.NoError(t, err)
		<-events
		worked, err := svc.Work(ctx)
		require.NoError(t, err)
		require.True(t, worked)
		got, err := svc.Document(ctx, user, d.ID)
		require.NoError(t, err)
		require.Equal(t, models.DocumentFailed, got.State)
		require.Contains(t, got.Error, "interrupted 2 times")
		last := <-events
		require.Equal(t, models.DocumentFailed, last.State)
		j, err := findJob(ctx, db, d.ID)
		require.NoError(t, err)
		require.Equal(t, jobFailed, j.State)
		worked, err = svc.Work(ctx)
		require.NoError(t, err)
		require.False(t, worked, "nothing left to claim")
	})
}

// panicEmbedder panics in Embed.
type panicEmbedder struct{ Embedder }

func (panicEmbedder) Embed(context.Context, []string) ([][]float32, error) { panic("boom") }

// TestPanicFailsTheDocument: a panic while ingesting is recovered and marks the
// document FAILED.
func TestPanicFailsTheDocument(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	ctx := context.Background()
	e := newEnv(t, db, Config{})
	svc, err := NewService(Config{}, Deps{DB: db, Blobs: e.blobs, Tiers: e.tiers, Events: e.bus, Embedder: panicEmbedder{testEmbedder()}})
	require.NoError(t, err)
	user := e.newUser(t, models.TierPro)
	d := e.add(t, user, "Garden", "text/markdown", gardening)
	worked, err := svc.Work(ctx)
	require.NoError(t, err)
	require.True(t, worked)
	got, err := svc.Document(ctx, user, d.ID)
	require.NoError(t, err)
	require.Equal(t, models.DocumentFailed, got.State)
	require.Equal(t, "an internal error", got.Error)
}

// slowBlobs holds Get until the job's lease was extended past what the step before
// it set: the lease is renewed while a step runs, not only between steps.
type slowBlobs struct {
	*memBlobs
	t     *testing.T
	db    bun.IDB
	docID string
}

func (b *slowBlobs) Get(ctx context.Context, key string, limit int64) ([]byte, error) {
	first, err := findJob(ctx, b.db, b.docID)
	require.NoError(b.t, err)
	for range 1000 {
		j, err := findJob(ctx, b.db, b.docID)
		require.NoError(b.t, err)
		if j.LeaseUntil.After(*first.LeaseUntil) {
			return b.memBlobs.Get(ctx, key, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.t.Error("the lease was not renewed while the file was read")
	return nil, ErrBlobNotFound
}

func TestLeaseRenewedDuringAStep(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	ctx := context.Background()
	e := newEnv(t, db, Config{})
	user := e.newUser(t, models.TierPro)
	d := e.add(t, user, "Garden", "text/markdown", gardening)
	slow := &slowBlobs{memBlobs: e.blobs, t: t, db: db, docID: d.ID}
	svc, err := NewService(Config{Lease: 30 * time.Millisecond}, Deps{DB: db, Blobs: slow, Tiers: e.tiers, Events: e.bus, Embedder: testEmbedder()})
	require.NoError(t, err)
	worked, err := svc.Work(ctx)
	require.NoError(t, err)
	require.True(t, worked)
	got, err := svc.Document(ctx, user, d.ID)
	require.NoError(t, err)
	require.Equal(t, models.DocumentReady, got.State, got.Error)
}

// stopBlobs holds Get until the worker's context ends, as a shutdown does mid-step.
type stopBlobs struct {
	*memBlobs
	started chan struct{}
}

func (b *stopBlobs) Get(ctx context.Context, _ string, _ int64) ([]byte, error) {
	close(b.started)
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestShutdownGivesTheJobBackUncounted(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	ctx := context.Background()
	e := newEnv(t, db, Config{})
	user := e.newUser(t, models.TierPro)
	d := e.add(t, user, "Garden", "text/markdown", gardening)
	stopping := &stopBlobs{memBlobs: e.blobs, started: make(chan struct{})}
	svc, err := NewService(Config{}, Deps{DB: db, Blobs: stopping, Tiers: e.tiers, Events: e.bus, Embedder: testEmbedder()})
	require.NoError(t, err)
	wctx, stop := context.WithCancel(ctx)
	worked := make(chan error, 1)
	go func() { _, err := svc.Work(wctx); worked <- err }()
	<-stopping.started
	stop() // the instance shuts down mid-step
	require.NoError(t, <-worked, "a shutdown is not the worker's error")

	j, err := findJob(ctx, db, d.ID)
	require.NoError(t, err)
	require.Equal(t, jobQueued, j.State, "back in the queue")
	require.Zero(t, j.Attempts, "the interrupted attempt does not count")
	require.Empty(t, j.LeaseOwner)

	// Another instance takes it at once, without waiting for a lease to expire.
	next, err := NewService(Config{}, Deps{DB: db, Blobs: e.blobs, Tiers: e.tiers, Events: e.bus, Embedder: testEmbedder()})
	require.NoError(t, err)
	ok, err := next.Work(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	got, err := next.Document(ctx, user, d.ID)
	require.NoError(t, err)
	require.Equal(t, models.DocumentReady, got.State, got.Error)
}
