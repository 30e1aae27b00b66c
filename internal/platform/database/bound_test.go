package database_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// TestBind: a bound statement answers as the same statement with its value written
// in would, on both dialects and for a value that needs quoting. On PostgreSQL its
// text holds $1 (Bun's hooks see the placeholder, not the value) and it is prepared
// once per connection, unless NoPreparedStatements; on SQLite the value is written in.
// A statement written beforehand with Placeholder is the same statement.
func TestBind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		url      func(t testing.TB) string
		noPrep   bool
		prepared int // statements prepared on the connection after two runs
		inText   string
	}{
		{"postgres", testkit.PostgresSchemaURL, false, 1, "$1"},
		{"postgres without prepared statements", testkit.PostgresSchemaURL, true, 0, "$1"},
		{"sqlite", func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "b.db") }, false, -1, "'it''s'' OR ''''='''"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, err := database.Open(ctx, database.Config{URL: tc.url(t), NoPreparedStatements: tc.noPrep})
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			_, err = db.ExecContext(ctx, "CREATE TABLE bound_rows (id TEXT PRIMARY KEY, n INTEGER NOT NULL)")
			require.NoError(t, err)
			const tricky = "it's' OR ''='"
			for i, id := range []string{"a", tricky, "z"} {
				_, err := db.NewRaw("INSERT INTO bound_rows (id, n) VALUES (?, ?)", id, i+1).Exec(ctx)
				require.NoError(t, err)
			}

			texts := &statementTexts{}
			conn, err := db.WithQueryHook(texts).Conn(ctx) // one connection: its prepared statements
			require.NoError(t, err)
			t.Cleanup(func() { _ = conn.Close() })
			writtenOnce := "SELECT n FROM bound_rows WHERE id = " + string(database.Placeholder(conn))
			for range 2 {
				var n int
				bctx, id := database.Bind(ctx, conn, tricky)
				require.NoError(t, conn.NewRaw("SELECT n FROM bound_rows WHERE id = ?", id).Scan(bctx, &n))
				require.Equal(t, 2, n)
				var ns []int
				bctx, id = database.Bind(ctx, conn, "a")
				require.NoError(t, conn.NewSelect().TableExpr("bound_rows").Column("n").Where("id <> ?", id).Order("n").Scan(bctx, &ns))
				require.Equal(t, []int{2, 3}, ns)
				// Written once with Placeholder, the statement is the first one.
				bctx, id = database.Bind(ctx, conn, tricky)
				require.NoError(t, conn.NewRaw(writtenOnce, id).Scan(bctx, &n))
				require.Equal(t, 2, n)
			}
			all := texts.all()
			require.Contains(t, all[0], tc.inText)
			require.Equal(t, all[0], all[2], "a statement written with Placeholder is the one Bind's value gives")
			if tc.prepared >= 0 {
				require.Equal(t, writtenOnce, all[2], "on PostgreSQL its text is final: sent as written")
			}

			if tc.prepared >= 0 {
				var prepared int
				require.NoError(t, conn.NewRaw("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM bound_rows%'").Scan(ctx, &prepared))
				require.Equal(t, 2*tc.prepared, prepared, "each statement prepared once")
			}
		})
	}
}

// statementTexts is a query hook keeping every statement's text.
type statementTexts struct {
	mu    sync.Mutex
	texts []string
}

func (s *statementTexts) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (s *statementTexts) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts = append(s.texts, e.Query)
}

func (s *statementTexts) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.texts)
}

// TestBoundRowsAreStdlibs: a bound statement's rows (boundRows) give database/sql the
// values pgx's own adaptor gives for the same rows, type for type: every type it
// decodes apart and some it reads as text, over rows that differ and a row of nulls.
func TestBoundRowsAreStdlibs(t *testing.T) {
	t.Parallel()
	for _, noPrep := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoPreparedStatements=%v", noPrep), func(t *testing.T) {
			t.Parallel()
			boundRowsAreStdlibs(t, noPrep)
		})
	}
}

func boundRowsAreStdlibs(t *testing.T, noPrep bool) {
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{URL: testkit.PostgresSchemaURL(t), NoPreparedStatements: noPrep})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })

	const columns = `b::bool, bytes::bytea, o::oid, d::date, f4::float4, f8::float8, i2::int2, i4::int4,
		i8::int8, j::json, jb::jsonb, x::xml, ts::timestamp, tstz::timestamptz, s::text, vc::varchar(20),
		u::uuid, n::numeric(10, 3), iv::interval, arr::text[]`
	const values = `(VALUES
		(true, '\x00ff', 42, '2026-12-07', 1.5, 2.25, 7, 70000, 9000000000, '{"a": [1, "x"]}', '{"b": null}',
		 '<p>x</p>', '2026-12-07 08:30:00.123456', '2026-12-07 08:30:00.123456+02', 'héllo', 'v',
		 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 12.5, '1 day 2 hours', '{a,b}'),
		(false, '\x', 0, 'infinity', -0.0, '-Infinity', -7, -1, 0, '[]', '{}',
		 '', '-infinity', 'infinity', '', '', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', -1, '0', '{}'),
		(null, null, null, null, null, null, null, null, null, null, null,
		 null, null, null, null, null, null, null, null, null)
	) AS v(b, bytes, o, d, f4, f8, i2, i4, i8, j, jb, x, ts, tstz, s, vc, u, n, iv, arr)`

	read := func(ctx context.Context, query string, args ...any) [][]any {
		rows, err := db.QueryContext(ctx, query, args...)
		require.NoError(t, err)
		defer func() { _ = rows.Close() }()
		cols, err := rows.Columns()
		require.NoError(t, err)
		types, err := rows.ColumnTypes()
		require.NoError(t, err)
		var all [][]any
		for _, ct := range types {
			length, hasLength := ct.Length()
			precision, scale, hasPrecision := ct.DecimalSize()
			all = append(all, []any{ct.Name(), ct.DatabaseTypeName(), ct.ScanType().String(), length, hasLength, precision, scale, hasPrecision})
		}
		for rows.Next() {
			row := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range row {
				ptrs[i] = &row[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			all = append(all, row)
		}
		require.NoError(t, rows.Err())
		return all
	}
	bctx, k := database.Bind(ctx, db, 1)
	ours := read(bctx, fmt.Sprintf("SELECT %s, %s::int AS k FROM %s", columns, k, values))
	theirs := read(ctx, fmt.Sprintf("SELECT %s, 1::int AS k FROM %s", columns, values))
	require.Len(t, theirs, 21+3, "the column types, then the rows")
	require.Equal(t, theirs, ours)
	for i, v := range ours[21] {
		require.NotNil(t, v, "column %d", i)
	}

	// Bun's scan of the same rows, through Bind and without.
	type row struct {
		TSTZ time.Time      `bun:"tstz"`
		J    map[string]any `bun:"j,type:json"`
		S    string         `bun:"s"`
	}
	const bunQuery = `SELECT tstz, j, s FROM (VALUES
		('2026-12-07 08:30:00+02'::timestamptz, '{"a": [1, "x"]}'::json, 'one'),
		('2026-12-08 09:00:00+00'::timestamptz, '{"b": {"c": true}}'::json, 'two')
	) AS v(tstz, j, s) WHERE ?::int = 1 ORDER BY s`
	var boundRowsScanned, plainScanned []row
	bctx, k = database.Bind(ctx, db, 1)
	require.NoError(t, db.NewRaw(bunQuery, k).Scan(bctx, &boundRowsScanned))
	require.NoError(t, db.NewRaw(bunQuery, 1).Scan(ctx, &plainScanned))
	require.Len(t, plainScanned, 2)
	require.Equal(t, plainScanned, boundRowsScanned)
}
