package metrics

import (
	"database/sql"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// dbName is the db_name label of the pool stats: the process has one database.
const dbName = "inkgraph"

// dbStats exports the connection pool stats (database/sql's DBStats, under the client
// library's go_sql_* names: open, in use, idle, max open, waits and their time, and
// connections closed for max-idle, idle time and lifetime) of the one database
// ObserveDB named last. It is registered once; which pool it reads can change, since
// tests open many.
type dbStats struct {
	describe prometheus.Collector // the descriptions, which depend on no pool
	current  atomic.Pointer[prometheus.Collector]
}

func (c *dbStats) Describe(ch chan<- *prometheus.Desc) { c.describe.Describe(ch) }

func (c *dbStats) Collect(ch chan<- prometheus.Metric) {
	if cur := c.current.Load(); cur != nil {
		(*cur).Collect(ch)
	}
}

var pool = register(&dbStats{describe: collectors.NewDBStatsCollector(nil, dbName)})

// ObserveDB makes /metrics report db's pool stats, in place of any database observed
// before; nil stops reporting them.
func ObserveDB(db *sql.DB) {
	if db == nil {
		pool.current.Store(nil)
		return
	}
	c := collectors.NewDBStatsCollector(db, dbName)
	pool.current.Store(&c)
}
