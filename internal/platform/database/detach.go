package database

import (
	"context"
	"database/sql/driver"
	"time"

	"github.com/uptrace/bun"
)

// database/sql watches a cancellable context itself: for each query run with one it
// starts a goroutine that closes the rows if the context ends first, and wakes it when
// they are closed. On PostgreSQL pgx watches the same context without a goroutine
// (context.AfterFunc) and cancels the statement itself, so database/sql's watch adds
// nothing but its cost: the goroutine, its start on the other core and its wake-up,
// about 10–25 µs of CPU for a primary-key select that costs 45 (BenchmarkPerfBunPK).
//
// driverCancels, a query hook, therefore gives database/sql the statement's context
// without its cancellation (detached), and the driver's connection takes it back
// (attached) before pgx runs the statement: the statement is still cancelled with
// its context, by pgx. What database/sql no longer does with it: give up waiting for a
// free connection of a full pool when the context ends (the statement then fails at
// once in pgx, with the context's error), and close a query's rows when it ends while
// they are read (pgx fails the read instead). A transaction's BEGIN keeps its context:
// database/sql rolls back a transaction whose context ends, and its statements keep
// the watch, which follows the transaction's context too.
type driverCancels struct{}

var _ bun.QueryHook = driverCancels{}

func (driverCancels) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if ctx.Done() == nil || ctx.Err() != nil || (e.IQuery == nil && e.Query == "BEGIN") {
		// Nothing to watch, or an ended context database/sql refuses at once.
		return ctx
	}
	return detached{ctx}
}

func (driverCancels) AfterQuery(context.Context, *bun.QueryEvent) {}

// detached is a context without its cancellation: no deadline, no Done channel, no
// error; its values, and itself under detachedKey, for attached.
type detached struct{ ctx context.Context }

type detachedKey struct{}

func (detached) Deadline() (time.Time, bool) { return time.Time{}, false }
func (detached) Done() <-chan struct{}       { return nil }
func (detached) Err() error                  { return nil }

func (d detached) Value(key any) any {
	if key == (detachedKey{}) {
		return d.ctx
	}
	return d.ctx.Value(key)
}

// attached is the context driverCancels detached, found in ctx (which later hooks may
// have wrapped), or ctx itself.
func attached(ctx context.Context) context.Context {
	if c, ok := ctx.Value(detachedKey{}).(context.Context); ok {
		return c
	}
	return ctx
}

// ExecContext runs query with the context driverCancels detached from database/sql.
func (c *boundConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(attached(ctx), query, args)
}
