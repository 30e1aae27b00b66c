package pgbouncer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/pgbouncer"
)

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	require.NoError(t, err)
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// TestTransactionPooling: the bouncer pools a test's own database in transaction mode,
// and two bouncers run side by side.
func TestTransactionPooling(t *testing.T) {
	t.Parallel()
	direct := testkit.PostgresDatabaseURL(t)
	a, b := pgbouncer.Start(t), pgbouncer.Start(t)
	require.NotEqual(t, a.Addr, b.Addr)

	conn := connect(t, a.URL(direct))
	var db string
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT current_database()").Scan(&db))
	require.True(t, strings.HasSuffix(direct, "/"+db) || strings.Contains(direct, "/"+db+"?"), "%s in %s", db, direct)

	admin := connect(t, a.AdminURL())
	rows, err := admin.Query(t.Context(), "SHOW POOLS")
	require.NoError(t, err)
	modes := map[string]string{}
	for rows.Next() {
		vals, err := rows.Values()
		require.NoError(t, err)
		fields := rows.FieldDescriptions()
		var name, mode string
		for i, f := range fields {
			switch f.Name {
			case "database":
				name, _ = vals[i].(string)
			case "pool_mode":
				mode, _ = vals[i].(string)
			}
		}
		modes[name] = mode
	}
	require.NoError(t, rows.Err())
	require.Equal(t, "transaction", modes[db], "pools: %v", modes)
}

// TestListenDoesNotCrossTheBouncer shows why the events bus takes a direct connection:
// a LISTEN through a transaction pooler lands on a server connection that goes back to
// the pool, and PgBouncer drops the notifications that connection then receives.
func TestListenDoesNotCrossTheBouncer(t *testing.T) {
	t.Parallel()
	direct := testkit.PostgresDatabaseURL(t)
	bouncer := pgbouncer.Start(t)
	listener := connect(t, bouncer.URL(direct))
	_, err := listener.Exec(t.Context(), `LISTEN through_the_pool`)
	require.NoError(t, err, "PgBouncer lets LISTEN through")

	notifier := connect(t, direct)
	_, err = notifier.Exec(t.Context(), `SELECT pg_notify('through_the_pool', 'hello')`)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return strings.Contains(bouncer.Logs(), "got packet 'A' from server when not linked")
	}, 10*time.Second, 10*time.Millisecond, "PgBouncer dropped the notification (packet 'A'): %s", bouncer.Logs())

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = listener.WaitForNotification(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the listener never hears it")
}
