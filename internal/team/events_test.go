package team_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/team"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func next(t *testing.T, ch <-chan *models.TeamEvent) (*models.TeamEvent, bool) {
	t.Helper()
	select {
	case e, ok := <-ch:
		return e, ok
	case <-time.After(10 * time.Second):
		t.Fatal("no team event")
		return nil, false
	}
}

// TestTeamEvents: members follow the team's events; a removed member's stream ends
// without the events after the removal; a stranger cannot subscribe; deleting ends
// every stream after TEAM_DELETED.
func TestTeamEvents(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		bus := events.NewMemory(slog.New(slog.DiscardHandler))
		t.Cleanup(func() { _ = bus.Close() })
		e := newEnv(t, db, func(d *team.Deps) { d.Events = bus })
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		owner, admin, member := e.user(t), e.user(t), e.user(t)
		tm, err := e.svc.CreateTeam(ctx, owner, "Events")
		require.NoError(t, err)
		e.join(t, owner, tm.ID, admin, models.TeamRoleAdmin)

		_, err = e.svc.TeamEvents(ctx, e.user(t), tm.ID)
		require.Equal(t, models.CodeNotFound, models.ErrorCode(err))
		ownerEvents, err := e.svc.TeamEvents(ctx, owner, tm.ID)
		require.NoError(t, err)
		adminEvents, err := e.svc.TeamEvents(ctx, admin, tm.ID)
		require.NoError(t, err)

		e.join(t, owner, tm.ID, member, models.TeamRoleMember)
		ev, _ := next(t, ownerEvents)
		require.Equal(t, models.TeamMemberJoined, ev.Type)
		require.Equal(t, member, *ev.UserID)
		require.Equal(t, models.TeamRoleMember, *ev.Role)
		_, _ = next(t, adminEvents)

		_, err = e.svc.ChangeRole(ctx, owner, tm.ID, member, models.TeamRoleAdmin)
		require.NoError(t, err)
		ev, _ = next(t, ownerEvents)
		require.Equal(t, models.TeamRoleChanged, ev.Type)
		require.Equal(t, models.TeamRoleAdmin, *ev.Role)
		_, _ = next(t, adminEvents)

		// The admin is removed: their stream ends, the owner's goes on.
		_, err = e.svc.RemoveMember(ctx, owner, tm.ID, admin)
		require.NoError(t, err)
		ev, _ = next(t, ownerEvents)
		require.Equal(t, models.TeamMemberRemoved, ev.Type)
		_, open := next(t, adminEvents)
		require.False(t, open, "a removed member's stream ends, with nothing more")

		require.NoError(t, e.svc.LeaveTeam(ctx, member, tm.ID))
		ev, _ = next(t, ownerEvents)
		require.Equal(t, models.TeamMemberLeft, ev.Type)

		require.NoError(t, e.svc.DeleteTeam(ctx, owner, tm.ID))
		ev, _ = next(t, ownerEvents)
		require.Equal(t, models.TeamDeleted, ev.Type)
		_, open = next(t, ownerEvents)
		require.False(t, open, "deletion ends the stream")
	})
}

// TestDeleteTeam: owners only (billing is not asked about the team for anyone else);
// a subscription that would bill again stops it, one set to end with its period does
// not; members and invitations go, the log stays.
func TestDeleteTeam(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		b := &billing{plan: paid(5)}
		e := newEnv(t, db, func(d *team.Deps) { d.Billing = b })
		ctx := context.Background()
		owner, admin, member := e.user(t), e.user(t), e.user(t)
		tm, err := e.svc.CreateTeam(ctx, owner, "Doomed")
		require.NoError(t, err)
		e.join(t, owner, tm.ID, admin, models.TeamRoleAdmin)
		e.join(t, owner, tm.ID, member, models.TeamRoleMember)
		_, err = e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Link: true, Role: models.TeamRoleMember})
		require.NoError(t, err)

		before := e.state(t, tm.ID)
		for _, c := range []struct {
			user, code string
		}{{admin, models.CodeForbidden}, {member, models.CodeForbidden}, {e.user(t), models.CodeNotFound}, {owner, models.CodeConflict}} {
			reads := b.reads()
			err := e.svc.DeleteTeam(ctx, c.user, tm.ID)
			require.Equal(t, c.code, models.ErrorCode(err), "%v", err)
			require.Equal(t, before, e.state(t, tm.ID))
			if c.user != owner {
				require.Equal(t, reads, b.reads(), "billing was asked about the team for a non-owner")
			}
		}
		plan := paid(5)
		plan.CancelAtPeriodEnd = true
		b.set(plan)
		require.NoError(t, e.svc.DeleteTeam(ctx, owner, tm.ID))
		_, err = e.svc.Team(ctx, owner, tm.ID)
		require.Equal(t, models.CodeNotFound, models.ErrorCode(err))
		for _, table := range []string{"teams", "team_members", "team_invitations"} {
			col := "team_id"
			if table == "teams" {
				col = "id"
			}
			n, err := db.NewSelect().Table(table).Where(col+" = ?", tm.ID).Count(ctx)
			require.NoError(t, err)
			require.Zero(t, n, table)
		}
		n, err := db.NewSelect().Table("audit_log").Where("team_id = ? AND kind = ?", tm.ID, models.AuditTeamDeleted).Count(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "the team's log stays, with its deletion")
		require.Equal(t, models.CodeNotFound, models.ErrorCode(e.svc.DeleteTeam(ctx, owner, tm.ID)))
	})
}
