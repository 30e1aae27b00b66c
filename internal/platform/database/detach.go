package database

import (
	"context"
	"database/sql/driver"
	"errors"
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
// (attached) before pgx runs the statement, opens a connection or checks one it
// reuses: pgx still gives up the statement when its context ends (closing the
// connection, as before), and a context that ended meanwhile fails the statement with
// its own error, the connection left in the pool as database/sql leaves it. It is
// left alone where database/sql's own watch matters: a context with a deadline (a
// bounded wait, such as the readiness check's), a full pool (a wait for a
// connection, which the context's end must cut short), and a transaction's BEGIN
// (database/sql rolls back a transaction whose context ends, and watches its
// statements with the transaction's context anyway). What database/sql no longer
// does: close a query's rows when its context ends while they are read (pgx fails the
// read instead, unless it has already buffered the rows).
type driverCancels struct{}

var _ bun.QueryHook = driverCancels{}

func (driverCancels) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if ctx.Done() == nil || ctx.Err() != nil || (e.IQuery == nil && e.Query == "BEGIN") {
		// Nothing to watch, an ended context database/sql refuses at once, or BEGIN.
		return ctx
	}
	if _, ok := ctx.Deadline(); ok {
		return ctx
	}
	if st := e.DB.Stats(); st.Idle == 0 && st.MaxOpenConnections > 0 && st.OpenConnections >= st.MaxOpenConnections {
		return ctx // a full pool: a wait for a connection
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

// attached is the context driverCancels detached, as it was then (values later hooks
// added to ctx are not in it), or ctx itself.
func attached(ctx context.Context) context.Context {
	if c, ok := ctx.Value(detachedKey{}).(context.Context); ok {
		return c
	}
	return ctx
}

// ExecContext runs query with the context driverCancels detached from database/sql.
func (c *boundConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ctx = attached(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := c.Conn.ExecContext(ctx, query, args)
	return res, ended(ctx, err)
}

// ResetSession checks a connection database/sql reuses (pgx pings one idle for a
// second) with the context driverCancels detached; not for a context already ended,
// whose statement fails without the connection (a failed ping would discard it, and
// database/sql would try the next).
func (c *boundConn) ResetSession(ctx context.Context) error {
	if ctx = attached(ctx); ctx.Done() != nil {
		select {
		case <-ctx.Done():
			return nil
		default:
		}
	}
	return c.Conn.ResetSession(ctx)
}

// ended is err, or ctx's error when err is pgx's adaptor's driver.ErrBadConn for a
// statement it did not send because ctx ended: database/sql would otherwise discard
// the connection and try the statement again on others, which end the same way.
func ended(ctx context.Context, err error) error {
	if errors.Is(err, driver.ErrBadConn) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
