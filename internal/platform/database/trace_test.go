package database_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// recordSpans installs a tracer provider that keeps every ended span in memory, and
// puts the previous one back when the test ends. The provider is process-wide: tests
// that call it must not run in parallel.
func recordSpans(t *testing.T) *tracetest.SpanRecorder {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() {
		otel.SetTracerProvider(prev)
		_ = tp.Shutdown(context.Background())
	})
	return rec
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value.String()
	}
	return m
}

// TestQueryTracerSpans: a statement inside a recorded span gets a client span named
// after its operation and table, with the dialect, and with its text free of every
// value the statement carried. Not parallel: it sets the global tracer provider.
func TestQueryTracerSpans(t *testing.T) {
	rec := recordSpans(t)
	system := map[string]string{"sqlite": "sqlite", "postgres": "postgresql"}
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			db := database.Traced(testkit.NewDB(t, d))
			root, rootSpan := otel.Tracer("test").Start(context.Background(), "root")
			ctx := root

			// Values no trace may hold: a password hash, an address, a token.
			hash := "$2a$10$secret-hash-" + testkit.RandomHex(8)
			email := "private-" + testkit.RandomHex(6) + "@example.com"
			token := "tok-" + testkit.RandomHex(8)
			id := "user-" + testkit.RandomHex(6)
			now := time.Now()
			_, err := db.NewInsert().Model(&models.User{ID: id, Email: email, PasswordHash: hash, Tier: models.TierFree,
				CreatedAt: now, UpdatedAt: now}).Exec(ctx)
			require.NoError(t, err)
			var u models.User
			require.NoError(t, db.NewSelect().Model(&u).Where("email = ?", email).Scan(ctx))
			_, err = db.NewUpdate().Model(&u).Set("password_hash = ?", token).WherePK().Exec(ctx)
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, "UPDATE users SET tier = ? WHERE email = ?", "pro", email)
			require.NoError(t, err)
			var n int
			require.NoError(t, db.NewRaw("SELECT count(*) FROM users WHERE password_hash = ?", token).Scan(ctx, &n))
			require.Equal(t, 1, n)
			err = db.NewSelect().Table("no_such_table").Column("x").Where("x = ?", token).Scan(ctx, &n)
			require.Error(t, err)
			// A transaction's statements are spans too, beside its BEGIN and COMMIT.
			require.NoError(t, database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
				_, err := tx.NewDelete().Model((*models.User)(nil)).Where("id = ?", id).Exec(ctx)
				return err
			}))
			rootSpan.End()

			var mine []sdktrace.ReadOnlySpan
			for _, s := range rec.Ended() {
				if s.Parent().SpanID() == rootSpan.SpanContext().SpanID() {
					mine = append(mine, s)
				}
			}
			names := make([]string, len(mine))
			for i, s := range mine {
				names[i] = s.Name()
			}
			require.Equal(t, []string{"INSERT users", "SELECT users", "UPDATE users", "UPDATE", "SELECT users", "SELECT no_such_table",
				"BEGIN", "DELETE users", "COMMIT"}, names)
			for i, s := range mine {
				a := attrs(s)
				require.Equal(t, trace.SpanKindClient, s.SpanKind(), s.Name())
				require.Equal(t, system[string(d)], a["db.system.name"], s.Name())
				require.Equal(t, strings.Fields(names[i])[0], a["db.operation.name"], s.Name())
				text := a["db.query.text"]
				require.NotEmpty(t, text, s.Name())
				for _, secret := range []string{hash, email, token, id, "'pro'", "'free'"} {
					require.NotContains(t, text, secret, "%s: %s", s.Name(), text)
				}
			}
			require.Equal(t, "users", attrs(mine[0])["db.collection.name"])
			require.Equal(t, "users", attrs(mine[4])["db.collection.name"], "a raw SELECT's table, from its text")
			require.NotContains(t, attrs(mine[3]), attribute.Key("db.collection.name"), "a raw UPDATE's is not parsed")
			require.Contains(t, attrs(mine[3])["db.query.text"], "UPDATE users SET tier = ? WHERE email = ?")
			require.Equal(t, codes.Unset, mine[4].Status().Code)
			require.Equal(t, codes.Error, mine[5].Status().Code, "the failed statement's span says so")
			if d == testkit.Postgres {
				// A server's message may quote a value: its SQLSTATE stands for it.
				require.Equal(t, "SQLSTATE 42P01", mine[5].Status().Description)
				require.Equal(t, "42P01", attrs(mine[5])["db.response.status_code"])
			} else {
				require.NotEmpty(t, mine[5].Events(), "with the error recorded")
			}
		})
	}
}

// TestQueryTracerOutsideASpan: a statement with no recorded span around it (a
// background sweep, or tracing off) records nothing and allocates nothing.
func TestQueryTracerOutsideASpan(t *testing.T) {
	rec := recordSpans(t)
	db := database.Traced(testkit.NewDB(t, testkit.SQLite))
	var n int
	require.NoError(t, db.NewRaw("SELECT count(*) FROM users").Scan(context.Background(), &n))
	require.Empty(t, rec.Ended())

	hook := database.QueryTracer{}
	ev := &bun.QueryEvent{DB: db, QueryTemplate: "SELECT 1"}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		hook.AfterQuery(hook.BeforeQuery(ctx, ev), ev)
	})
	require.Zero(t, allocs)
}

// BenchmarkQueryTracer prices the SQL hook per statement (a primary-key select on
// SQLite through Bun), interleaving three cases statement by statement so that a
// busy machine weighs on each alike: without the hook ("none", tracing off: main
// attaches none), with it outside any span ("idle", a sweep while tracing is on), and
// with it inside a recorded span ("span": started, attributed and ended per statement;
// export not included). ns/op is the three together; each case's median statement is
// reported as <case>-p50-ns, and the recorded span's extra as span-extra-p50-ns.
func BenchmarkQueryTracer(b *testing.B) {
	tp := sdktrace.NewTracerProvider()
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	b.Cleanup(func() { otel.SetTracerProvider(prev) })
	plain := testkit.NewDB(b, testkit.SQLite)
	id := "user-bench"
	now := time.Now()
	_, err := plain.NewInsert().Model(&models.User{ID: id, Email: "bench@example.com", Tier: models.TierFree,
		CreatedAt: now, UpdatedAt: now}).Exec(context.Background())
	require.NoError(b, err)
	traced := database.Traced(plain)
	recorded, span := tp.Tracer("bench").Start(context.Background(), "request")
	defer span.End()

	cases := []struct {
		name string
		db   *bun.DB
		ctx  context.Context
	}{
		{"none", plain, context.Background()},
		{"idle", traced, context.Background()},
		{"span", traced, recorded},
	}
	took := make([][]time.Duration, len(cases))
	b.ReportAllocs()
	for b.Loop() {
		for i, c := range cases {
			start := time.Now()
			var u models.User
			if err := c.db.NewSelect().Model(&u).Where("id = ?", id).Scan(c.ctx); err != nil {
				b.Fatal(err)
			}
			took[i] = append(took[i], time.Since(start))
		}
	}
	p50 := make([]time.Duration, len(cases))
	for i, c := range cases {
		slices.Sort(took[i])
		p50[i] = took[i][len(took[i])/2]
		b.ReportMetric(float64(p50[i].Nanoseconds()), c.name+"-p50-ns")
	}
	b.ReportMetric(float64((p50[2] - p50[0]).Nanoseconds()), "span-extra-p50-ns")
}
