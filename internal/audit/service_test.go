package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/audit"
	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// env is one audit service over a database, with its clock.
type env struct {
	db    *bun.DB
	svc   *audit.Service
	clock *testkit.Clock
}

func newEnv(t *testing.T, db *bun.DB, clientIP string) *env {
	t.Helper()
	e := &env{db: db, clock: testkit.NewClock(time.Time{})}
	svc, err := audit.NewService(audit.Deps{DB: db, Now: e.clock.Now, ClientIP: func(context.Context) string { return clientIP }})
	require.NoError(t, err)
	e.svc = svc
	return e
}

// newUser adds a user and returns its ID.
func (e *env) newUser(t *testing.T) string {
	t.Helper()
	return testkit.NewUser(t, e.db, models.TierFree, e.clock.Now())
}

func TestAuditLogPagesNewestFirst(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, "192.0.2.10")
		ctx := context.Background()
		alice, bob := e.newUser(t), e.newUser(t)

		// Seven entries, some within one microsecond of each other: the cursor must
		// tell apart entries of the same time.
		var want []string
		for i := range 7 {
			if i%3 == 0 {
				e.clock.Add(time.Second)
			}
			require.NoError(t, e.svc.Record(ctx, alice, models.AuditLogin, models.AuditDetail{"n": string(rune('a' + i))}))
			want = append([]string{string(rune('a' + i))}, want...)
		}
		require.NoError(t, e.svc.Record(ctx, bob, models.AuditLoginFailed, nil))

		var got []string
		after := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 5)
			conn, err := e.svc.AuditLog(ctx, alice, 3, after)
			require.NoError(t, err)
			for _, edge := range conn.Edges {
				require.Equal(t, alice, edge.Node.UserID)
				require.Equal(t, "192.0.2.10", edge.Node.IP)
				got = append(got, edge.Node.Detail["n"])
			}
			if !conn.PageInfo.HasNextPage {
				require.Len(t, conn.Edges, 1)
				break
			}
			require.Len(t, conn.Edges, 3)
			after = *conn.PageInfo.EndCursor
		}
		require.Equal(t, want, got)

		// Each user sees their own entries only.
		conn, err := e.svc.AuditLog(ctx, bob, 100, "")
		require.NoError(t, err)
		require.Len(t, conn.Edges, 1)
		require.Equal(t, models.AuditLoginFailed, conn.Edges[0].Node.Kind)
		require.Empty(t, conn.Edges[0].Node.Details())
		// Even with a cursor from Alice's log.
		first, err := e.svc.AuditLog(ctx, alice, 1, "")
		require.NoError(t, err)
		conn, err = e.svc.AuditLog(ctx, bob, 100, first.Edges[0].Cursor)
		require.NoError(t, err)
		for _, edge := range conn.Edges {
			require.Equal(t, bob, edge.Node.UserID)
		}

		empty, err := e.svc.AuditLog(ctx, e.newUser(t), 0, "")
		require.NoError(t, err)
		require.Empty(t, empty.Edges)
		require.False(t, empty.PageInfo.HasNextPage)
		require.Nil(t, empty.PageInfo.EndCursor)

		for _, tc := range []struct {
			name  string
			first int
			after string
			field string
		}{
			{"too many", 101, "", "first"},
			{"negative", -1, "", "first"},
			{"not a cursor", 10, "%%%", "after"},
			{"a cursor without an id", 10, "MTIz", "after"},
		} {
			_, err := e.svc.AuditLog(ctx, alice, tc.first, tc.after)
			testkit.RequireCode(t, err, models.CodeBadUserInput, tc.field)
		}
		testkit.RequireCode(t, e.svc.Record(ctx, alice, "SOMETHING", nil), models.CodeBadUserInput)
		testkit.RequireCode(t, e.svc.Record(ctx, "", models.AuditLogin, nil), models.CodeBadUserInput)
	})
}

// An entry recorded in a transaction commits or rolls back with it; a Ref is
// recorded once per user and kind; the caller's time and address are kept.
func TestRecordInJoinsTheCallersTransaction(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, "192.0.2.10")
		ctx := context.Background()
		user := e.newUser(t)
		at := e.clock.Now().Add(-time.Hour)

		err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
			require.NoError(t, e.svc.RecordIn(ctx, tx, models.AuditEntry{UserID: user, Kind: models.AuditTierChanged}))
			return models.Errorf(models.CodeConflict, "the change failed")
		})
		testkit.RequireCode(t, err, models.CodeConflict)
		conn, err := e.svc.AuditLog(ctx, user, 0, "")
		require.NoError(t, err)
		require.Empty(t, conn.Edges, "rolled back with the change")

		require.NoError(t, database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
			for range 2 {
				if err := e.svc.RecordIn(ctx, tx, models.AuditEntry{UserID: user, Kind: models.AuditPaymentFailed,
					Ref: "evt_1", At: at}); err != nil {
					return err
				}
			}
			return nil
		}))
		require.NoError(t, e.svc.RecordIn(ctx, db, models.AuditEntry{UserID: user, Kind: models.AuditPaymentFailed, Ref: "evt_1"}))
		require.NoError(t, e.svc.RecordIn(ctx, db, models.AuditEntry{UserID: user, Kind: models.AuditSubscriptionEnded, Ref: "evt_1"}))
		conn, err = e.svc.AuditLog(ctx, user, 0, "")
		require.NoError(t, err)
		require.Len(t, conn.Edges, 2, "one entry per ref and kind")
		old := conn.Edges[1].Node
		require.Equal(t, models.AuditPaymentFailed, old.Kind)
		require.True(t, at.Equal(old.At), "the caller's time: %s", old.At)
		require.Empty(t, old.IP, "RecordIn keeps the address as given")
		require.NotNil(t, old.Detail)
		testkit.RequireCode(t, e.svc.RecordIn(ctx, db, models.AuditEntry{UserID: user, Kind: "NOPE"}), models.CodeBadUserInput, "kind")
	})
}
