package billing_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func TestAuditLogPagesNewestFirst(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, withoutStripe(), withClientIP("192.0.2.10"))
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
			require.Equal(t, models.CodeBadUserInput, codeOf(err), tc.name)
			var me *models.Error
			require.ErrorAs(t, err, &me)
			require.Equal(t, tc.field, me.Field, tc.name)
		}
		require.Equal(t, models.CodeBadUserInput, codeOf(e.svc.Record(ctx, alice, "SOMETHING", nil)))
		require.Equal(t, models.CodeBadUserInput, codeOf(e.svc.Record(ctx, "", models.AuditLogin, nil)))
	})
}
