package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
)

// gauges gathers the registry and returns the value of each gauge or counter named,
// by name, for the series labelled db_name="inkgraph"; a missing one is absent.
func gauges(t *testing.T, names ...string) map[string]float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	got := map[string]float64{}
	for _, f := range families {
		if !want[f.GetName()] {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "db_name" && l.GetValue() == "inkgraph" {
					got[f.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
				}
			}
		}
	}
	return got
}

// TestObserveDB: the pool stats follow the database ObserveDB names last, and vanish
// with nil. Not parallel: the observed database is process-wide.
func TestObserveDB(t *testing.T) {
	ctx := context.Background()
	sqliteCfg := func() database.Config { return database.Config{URL: "sqlite:" + t.TempDir() + "/m.db"} }
	a, err := database.Open(ctx, sqliteCfg())
	require.NoError(t, err)
	defer a.Close()
	b, err := database.Open(ctx, sqliteCfg())
	require.NoError(t, err)
	defer b.Close()
	t.Cleanup(func() { metrics.ObserveDB(nil) })
	names := []string{"go_sql_open_connections", "go_sql_in_use_connections", "go_sql_idle_connections",
		"go_sql_max_open_connections", "go_sql_wait_count_total"}

	metrics.ObserveDB(a.DB)
	require.Equal(t, map[string]float64{"go_sql_open_connections": 1, "go_sql_in_use_connections": 0,
		"go_sql_idle_connections": 1, "go_sql_max_open_connections": 1, "go_sql_wait_count_total": 0}, gauges(t, names...))
	// SQLite has one connection: held by a transaction it is in use, and a second
	// caller waits for it.
	tx, err := a.BeginTx(ctx, nil)
	require.NoError(t, err)
	waited := make(chan error)
	go func() {
		_, err := a.ExecContext(ctx, "SELECT 1")
		waited <- err
	}()
	require.Eventually(t, func() bool { return a.Stats().WaitCount == 1 }, 10*time.Second, time.Millisecond)
	got := gauges(t, names...)
	require.Equal(t, 1.0, got["go_sql_in_use_connections"])
	require.Equal(t, 0.0, got["go_sql_idle_connections"])
	require.Equal(t, 1.0, got["go_sql_wait_count_total"])
	require.NoError(t, tx.Rollback())
	require.NoError(t, <-waited)

	// Another database replaces it; closing that one shows no connection.
	metrics.ObserveDB(b.DB)
	require.Equal(t, 0.0, gauges(t, names...)["go_sql_wait_count_total"], "b's stats, not a's")
	require.NoError(t, b.Close())
	require.Equal(t, 0.0, gauges(t, names...)["go_sql_open_connections"])

	metrics.ObserveDB(nil)
	require.Empty(t, gauges(t, names...))
}
