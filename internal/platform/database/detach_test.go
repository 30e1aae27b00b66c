package database_test

import (
	"context"
	"database/sql/driver"
	"sync"
	"testing"
	"time"

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

// cancelling is a query hook, after driverCancels, that ends the context its cancel
// belongs to as a statement starts: the context ends after driverCancels looked at it.
type cancelling struct{ cancel func() }

func (c cancelling) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	c.cancel()
	return ctx
}

func (cancelling) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestDriverCancels: on PostgreSQL database/sql is handed a statement's context
// without its cancellation, and pgx still gives up the statement with it. A query or
// an exec whose context ends while it runs stops with the context's error (each would
// otherwise sleep a minute); one whose context has ended, or ends between the hook and
// the driver, fails with the context's error and leaves the pool's connections alone;
// a context with a deadline, a full pool's wait and a transaction keep database/sql's
// watch.
func TestDriverCancels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base, err := database.Open(ctx, database.Config{URL: testkit.PostgresSchemaURL(t), MaxOpenConns: 4, MaxIdleConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { _ = base.Close() })
	w := &watchedContexts{}
	db := base.WithQueryHook(w)
	_, err = db.ExecContext(ctx, "CREATE TABLE detach_rows (id TEXT PRIMARY KEY)")
	require.NoError(t, err)
	// This run's statements: PostgreSQL goes on sleeping after pgx gave one up (it
	// drops the connection), so another run's must not be taken for this one's.
	tag := testkit.RandomHex(6)
	t.Cleanup(func() {
		_, _ = base.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE ?", "%"+tag+"%")
	})

	// cancelWhenRunning cancels the returned context once the statement text runs.
	cancelWhenRunning := func(t *testing.T, text string) context.Context {
		cctx, cancel := context.WithCancel(ctx)
		t.Cleanup(cancel)
		go func() {
			for cctx.Err() == nil {
				var n int
				err := base.NewRaw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
					AND pid <> pg_backend_pid() AND query = ? AND state = 'active'`, text).Scan(ctx, &n)
				if err == nil && n > 0 {
					cancel()
				}
			}
		}()
		return cctx
	}

	t.Run("a query", func(t *testing.T) {
		text := "SELECT 1 AS one FROM pg_sleep(60) -- " + tag
		var one int
		err := db.NewRaw(text).Scan(cancelWhenRunning(t, text), &one)
		require.ErrorIs(t, err, context.Canceled)
		watched, ran := w.of(text)
		require.True(t, ran)
		require.False(t, watched, "database/sql watches the query's context")
	})
	t.Run("an exec", func(t *testing.T) {
		text := "SELECT pg_sleep(61) -- " + tag
		_, err := db.ExecContext(cancelWhenRunning(t, text), text)
		require.ErrorIs(t, err, context.Canceled)
		watched, ran := w.of(text)
		require.True(t, ran)
		require.False(t, watched)
	})
	t.Run("an ended context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		var one int
		require.ErrorIs(t, db.NewRaw("SELECT 1").Scan(cctx, &one), context.Canceled)
	})
	t.Run("a context that ends after the hook", func(t *testing.T) {
		var one int
		require.NoError(t, db.NewRaw("SELECT 1").Scan(ctx, &one))
		open := base.DB.Stats().OpenConnections
		for _, run := range []func(context.Context, *bun.DB) error{
			func(ctx context.Context, db *bun.DB) error { return db.NewRaw("SELECT 1").Scan(ctx, &one) },
			func(ctx context.Context, db *bun.DB) error {
				bctx, v := database.Bind(ctx, db, "x")
				return db.NewRaw("SELECT 1 WHERE ? = 'x'", v).Scan(bctx, &one)
			},
			func(ctx context.Context, db *bun.DB) error { _, err := db.ExecContext(ctx, "SELECT 1"); return err },
		} {
			cctx, cancel := context.WithCancel(ctx)
			err := run(cctx, db.WithQueryHook(cancelling{cancel}))
			require.ErrorIs(t, err, context.Canceled)
			require.NotErrorIs(t, err, driver.ErrBadConn)
		}
		require.Equal(t, open, base.DB.Stats().OpenConnections, "no connection was discarded")
	})
	t.Run("the connection is usable after", func(t *testing.T) {
		var one int
		require.NoError(t, db.NewRaw("SELECT 1").Scan(ctx, &one))
		require.Equal(t, 1, one)
	})
	t.Run("a context with a deadline", func(t *testing.T) {
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		text := "SELECT 2 AS two -- " + tag
		var two int
		require.NoError(t, db.NewRaw(text).Scan(dctx, &two))
		watched, _ := w.of(text)
		require.True(t, watched, "a deadline keeps database/sql's watch")
	})
	t.Run("a full pool", func(t *testing.T) {
		one, err := database.Open(ctx, database.Config{URL: testkit.PostgresSchemaURL(t), MaxOpenConns: 1, MaxIdleConns: 1})
		require.NoError(t, err)
		defer one.Close()
		held, err := one.Conn(ctx)
		require.NoError(t, err)
		defer held.Close()
		w1 := &watchedContexts{}
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(100*time.Millisecond, cancel)
		text := "SELECT 3 AS three -- " + tag
		var three int
		// Waiting for the held connection: the context's end stops the wait.
		require.ErrorIs(t, one.WithQueryHook(w1).NewRaw(text).Scan(cctx, &three), context.Canceled)
		watched, _ := w1.of(text)
		require.True(t, watched, "a wait for a connection keeps database/sql's watch")
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
