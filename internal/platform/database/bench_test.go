package database_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// benchAccount is a row shaped like an account: text key, a few columns, two times.
type benchAccount struct {
	bun.BaseModel `bun:"table:bench_accounts"`

	ID        string    `bun:"id,pk"`
	Email     string    `bun:"email,notnull"`
	Tier      string    `bun:"tier,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

const benchRows = 1000

// BenchmarkPerfBunPK prices one primary-key select through Bun as production opens
// it (database.Open: pgx's database/sql driver, simple protocol; no query hook, as
// with tracing off) against the same select by a pgxpool in pgx's default mode
// (statements prepared and cached), on the same PostgreSQL database and table, one
// client, the two alternating select by select. Reported: bun-ns and pgx-ns (medians
// per select), x_pgx (their ratio; the target is 1.5), and each side's
// allocations and bytes per select; and Bun with its value bound (database.Bind, as
// the onboarding summary's reads run): bun-bound-ns and x_pgx_bound.
//
//	go test -run '^$' -bench BenchmarkPerfBunPK -benchtime=20000x ./internal/platform/database/
func BenchmarkPerfBunPK(b *testing.B) {
	ctx := context.Background()
	url := testkit.PostgresSchemaURL(b)
	db, err := database.Open(ctx, database.Config{URL: url, MaxOpenConns: 4, MaxIdleConns: 4})
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	_, err = db.NewCreateTable().Model((*benchAccount)(nil)).Exec(ctx)
	require.NoError(b, err)
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	rows := make([]benchAccount, benchRows)
	for i := range rows {
		rows[i] = benchAccount{ID: fmt.Sprintf("01938f6e-0000-7000-8000-%012d", i), Email: fmt.Sprintf("user%d@example.com", i),
			Tier: "FREE", CreatedAt: now, UpdatedAt: now}
	}
	_, err = db.NewInsert().Model(&rows).Exec(ctx)
	require.NoError(b, err)

	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(b, err)
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(b, err)
	b.Cleanup(pool.Close)
	// pgx's simple protocol with the same pool size: what Bun's mode costs the
	// server (it parses and plans every statement), apart from Bun and database/sql.
	scfg := cfg.Copy()
	scfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	simple, err := pgxpool.NewWithConfig(ctx, scfg)
	require.NoError(b, err)
	b.Cleanup(simple.Close)
	// A request's context can be cancelled, which makes database/sql watch it.
	ctx, cancel := context.WithCancel(ctx)
	b.Cleanup(cancel)

	viaBun := func(id string) error {
		a := new(benchAccount)
		if err := db.NewSelect().Model(a).Where("id = ?", id).Scan(ctx); err != nil {
			return err
		}
		if a.ID != id {
			return fmt.Errorf("bun read %q for %q", a.ID, id)
		}
		return nil
	}
	// The same select with its value bound (database.Bind: prepared once per
	// connection), as the onboarding summary's reads are made.
	viaBound := func(id string) error {
		a := new(benchAccount)
		bctx, bid := database.Bind(ctx, db, id)
		if err := db.NewSelect().Model(a).Where("id = ?", bid).Scan(bctx); err != nil {
			return err
		}
		if a.ID != id {
			return fmt.Errorf("bun read %q for %q", a.ID, id)
		}
		return nil
	}
	viaPgx := func(id string) error { return pgxSelect(ctx, pool, id) }
	viaSimple := func(id string) error { return pgxSelect(ctx, simple, id) }
	for i := range 200 { // warm the pools and pgx's statement cache
		require.NoError(b, viaBun(rows[i%benchRows].ID))
		require.NoError(b, viaBound(rows[i%benchRows].ID))
		require.NoError(b, viaPgx(rows[i%benchRows].ID))
		require.NoError(b, viaSimple(rows[i%benchRows].ID))
	}

	bunTook := make([]time.Duration, 0, b.N)
	pgxTook := make([]time.Duration, 0, b.N)
	simpleTook := make([]time.Duration, 0, b.N)
	boundTook := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		id := rows[i%benchRows].ID
		i++
		t0 := time.Now()
		if err := viaBun(id); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := viaPgx(id); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := viaSimple(id); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		if err := viaBound(id); err != nil {
			b.Fatal(err)
		}
		bunTook = append(bunTook, t1.Sub(t0))
		pgxTook = append(pgxTook, t2.Sub(t1))
		simpleTook = append(simpleTook, t3.Sub(t2))
		boundTook = append(boundTook, time.Since(t3))
	}
	bunNS, pgxNS, simpleNS, boundNS := medianNS(bunTook), medianNS(pgxTook), medianNS(simpleTook), medianNS(boundTook)
	bunAllocs, bunBytes := perSelect(b, rows, viaBun)
	pgxAllocs, pgxBytes := perSelect(b, rows, viaPgx)
	b.ReportMetric(bunNS, "bun-ns")
	b.ReportMetric(pgxNS, "pgx-ns")
	b.ReportMetric(simpleNS, "pgx-simple-ns")
	b.ReportMetric(bunNS/pgxNS, "x_pgx")
	b.ReportMetric(bunNS/simpleNS, "x_pgx_simple")
	b.ReportMetric(boundNS, "bun-bound-ns")
	b.ReportMetric(boundNS/pgxNS, "x_pgx_bound")
	b.ReportMetric(bunAllocs, "bun-allocs")
	b.ReportMetric(pgxAllocs, "pgx-allocs")
	b.ReportMetric(bunBytes, "bun-B")
	b.ReportMetric(pgxBytes, "pgx-B")
}

// pgxSelect is the primary-key select by hand.
func pgxSelect(ctx context.Context, pool *pgxpool.Pool, id string) error {
	var a benchAccount
	err := pool.QueryRow(ctx, `SELECT id, email, tier, created_at, updated_at FROM bench_accounts WHERE id = $1`, id).
		Scan(&a.ID, &a.Email, &a.Tier, &a.CreatedAt, &a.UpdatedAt)
	if err != nil {
		return err
	}
	if a.ID != id {
		return fmt.Errorf("pgx read %q for %q", a.ID, id)
	}
	return nil
}

func medianNS(took []time.Duration) float64 {
	slices.Sort(took)
	return float64(took[len(took)/2].Nanoseconds())
}

// perSelect returns the allocations and bytes one select costs, over 1,000 selects.
func perSelect(b *testing.B, rows []benchAccount, sel func(id string) error) (allocs, bytes float64) {
	const n = 1000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		if err := sel(rows[i%len(rows)].ID); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / n, float64(after.TotalAlloc-before.TotalAlloc) / n
}
