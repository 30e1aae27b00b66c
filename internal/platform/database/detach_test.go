package database_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// watchedContexts is a query hook that notes, by statement, whether the context
// database/sql is handed has a Done channel (which database/sql watches with a
// goroutine).
type watchedContexts struct {
	mu      sync.Mutex
	watched map[string]bool
}

func (w *watchedContexts) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watched == nil {
		w.watched = map[string]bool{}
	}
	w.watched[e.Query] = ctx.Done() != nil
	return ctx
}

func (*watchedContexts) AfterQuery(context.Context, *bun.QueryEvent) {}

func (w *watchedContexts) of(query string) (watched, ran bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	watched, ran = w.watched[query]
	return watched, ran
}

// TestDriverCancels: on PostgreSQL database/sql is handed a statement's context
// without its cancellation, and pgx still cancels the statement with it. A query or
// an exec whose context ends while it runs stops with the context's error (each would
// otherwise sleep a minute); one whose context has ended fails at once; a
// transaction keeps database/sql's watch and is rolled back when its context ends.
func TestDriverCancels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base, err := database.Open(ctx, database.Config{URL: testkit.PostgresSchemaURL(t)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = base.Close() })
	w := &watchedContexts{}
	db := base.WithQueryHook(w)
	_, err = db.ExecContext(ctx, "CREATE TABLE detach_rows (id TEXT PRIMARY KEY)")
	require.NoError(t, err)

	// cancelWhenRunning cancels the returned context once the statement text runs.
	cancelWhenRunning := func(t *testing.T, text string) context.Context {
		cctx, cancel := context.WithCancel(ctx)
		t.Cleanup(cancel)
		go func() {
			defer cancel()
			for {
				var n int
				err := base.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE query = ? AND state = 'active'", text).Scan(ctx, &n)
				if err != nil || n > 0 || cctx.Err() != nil {
					return
				}
			}
		}()
		return cctx
	}

	t.Run("a query", func(t *testing.T) {
		const text = "SELECT 1 AS one FROM pg_sleep(60)"
		var one int
		err := db.NewRaw(text).Scan(cancelWhenRunning(t, text), &one)
		require.ErrorIs(t, err, context.Canceled)
		watched, ran := w.of(text)
		require.True(t, ran)
		require.False(t, watched, "database/sql watches the query's context")
	})
	t.Run("an exec", func(t *testing.T) {
		const text = "SELECT pg_sleep(61)"
		_, err := db.ExecContext(cancelWhenRunning(t, text), text)
		require.ErrorIs(t, err, context.Canceled)
		watched, _ := w.of(text)
		require.False(t, watched)
	})
	t.Run("an ended context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		var one int
		require.ErrorIs(t, db.NewRaw("SELECT 1").Scan(cctx, &one), context.Canceled)
	})
	t.Run("the connection is usable after", func(t *testing.T) {
		var one int
		require.NoError(t, db.NewRaw("SELECT 1").Scan(ctx, &one))
		require.Equal(t, 1, one)
	})
	t.Run("a transaction", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		err := db.RunInTx(cctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewRaw("INSERT INTO detach_rows (id) VALUES ('cancelled')").Exec(ctx); err != nil {
				return err
			}
			cancel()
			return nil
		})
		require.Error(t, err)
		watched, _ := w.of("BEGIN")
		require.True(t, watched, "BEGIN keeps its context, for database/sql's rollback")
		var n int
		require.NoError(t, db.NewRaw("SELECT count(*) FROM detach_rows").Scan(ctx, &n))
		require.Zero(t, n, "the transaction was rolled back")
	})
}
