package database_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// TestBind: a bound statement answers as the same statement with its value written
// in would, on both dialects and for a value that needs quoting. On PostgreSQL its
// text holds $1 (Bun's hooks see the placeholder, not the value) and it is prepared
// once per connection, unless NoPreparedStatements; on SQLite the value is written in.
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
			for range 2 {
				var n int
				bctx, id := database.Bind(ctx, conn, tricky)
				require.NoError(t, conn.NewRaw("SELECT n FROM bound_rows WHERE id = ?", id).Scan(bctx, &n))
				require.Equal(t, 2, n)
				var ns []int
				bctx, id = database.Bind(ctx, conn, "a")
				require.NoError(t, conn.NewSelect().TableExpr("bound_rows").Column("n").Where("id <> ?", id).Order("n").Scan(bctx, &ns))
				require.Equal(t, []int{2, 3}, ns)
			}
			require.Contains(t, texts.all()[0], tc.inText)

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
