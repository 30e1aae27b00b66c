package team_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/audit"
	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/team"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// env is a team service over a database, with the real audit log and a clock.
type env struct {
	db    *bun.DB
	svc   *team.Service
	clock *testkit.Clock
}

func newEnv(t *testing.T, db *bun.DB, opts ...func(*team.Deps)) *env {
	t.Helper()
	e := &env{db: db, clock: testkit.NewClock(time.Date(2026, 12, 9, 10, 0, 0, 0, time.UTC))}
	log, err := audit.NewService(audit.Deps{DB: db, Now: e.clock.Now})
	require.NoError(t, err)
	// The accounts area keeps the teams' shared spaces, as in the server.
	accounts, err := auth.NewService(db, auth.Config{Tokens: auth.TokenConfig{Secret: []byte("0123456789abcdef0123456789abcdef"),
		Issuer: "inkgraph", Audience: "inkgraph-api", TTL: time.Minute}, BcryptCost: 4}, nil, slog.New(slog.DiscardHandler), e.clock.Now)
	require.NoError(t, err)
	d := team.Deps{DB: db, Audit: log, Spaces: accounts, Now: e.clock.Now}
	for _, o := range opts {
		o(&d)
	}
	e.svc, err = team.NewService(d)
	require.NoError(t, err)
	return e
}

func (e *env) user(t *testing.T) string {
	t.Helper()
	return testkit.NewUser(t, e.db, models.TierFree, e.clock.Now())
}

func email(userID string) *string { s := userID + "@example.com"; return &s }

// join invites userID with role (by email) as inviter, and accepts as userID.
func (e *env) join(t *testing.T, inviter, teamID, userID string, role models.TeamRole) {
	t.Helper()
	inv, err := e.svc.InviteMember(context.Background(), inviter, models.InviteMemberInput{TeamID: teamID, Email: email(userID), Role: role})
	require.NoError(t, err)
	_, err = e.svc.AcceptInvitation(context.Background(), userID, inv.Token)
	require.NoError(t, err)
}

// state is every row of the team's members and invitations, and the audit log's size:
// what a refused call must leave as it was.
func (e *env) state(t *testing.T, teamID string) string {
	t.Helper()
	ctx := context.Background()
	var members []models.TeamMember
	require.NoError(t, e.db.NewSelect().Model(&members).Where("team_id = ?", teamID).Order("user_id").Scan(ctx))
	var invs []models.TeamInvitation
	require.NoError(t, e.db.NewSelect().Model(&invs).Where("team_id = ?", teamID).Order("id").Scan(ctx))
	n, err := e.db.NewSelect().Table("audit_log").Count(ctx)
	require.NoError(t, err)
	var b strings.Builder
	for _, m := range members {
		b.WriteString(m.UserID + ":" + string(m.Role) + " ")
	}
	for _, i := range invs {
		b.WriteString(i.ID)
		if i.AcceptedAt != nil {
			b.WriteString(" accepted")
		}
		if i.RevokedAt != nil {
			b.WriteString(" revoked")
		}
		b.WriteString(";")
	}
	b.WriteString(" audit=" + strconv.Itoa(int(n)))
	return b.String()
}

func TestTeamLifecycle(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db)
		ctx := context.Background()
		owner, admin, member := e.user(t), e.user(t), e.user(t)

		tm, err := e.svc.CreateTeam(ctx, owner, "  Acme writers ")
		require.NoError(t, err)
		require.Equal(t, "Acme writers", tm.Name)
		require.Equal(t, models.TeamRoleOwner, tm.Role)

		inv, err := e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Email: email(admin), Role: models.TeamRoleAdmin})
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(inv.Token, "inv_"))
		require.Equal(t, inv.Invitation.CreatedAt.Add(team.InvitationTTL), inv.Invitation.ExpiresAt)
		stored, err := db.NewSelect().Table("team_invitations").Where("token_hash = ?", inv.Token).Count(ctx)
		require.NoError(t, err)
		require.Zero(t, stored, "the token itself is never stored")

		pending, err := e.svc.Invitations(ctx, owner, tm.ID)
		require.NoError(t, err)
		require.Len(t, pending, 1)

		joined, err := e.svc.AcceptInvitation(ctx, admin, inv.Token)
		require.NoError(t, err)
		require.Equal(t, models.TeamRoleAdmin, joined.Role)
		pending, err = e.svc.Invitations(ctx, owner, tm.ID)
		require.NoError(t, err)
		require.Empty(t, pending, "an accepted invitation is no longer pending")

		// A link invitation: any signed-in user, whatever their email.
		link, err := e.svc.InviteMember(ctx, admin, models.InviteMemberInput{TeamID: tm.ID, Link: true, Role: models.TeamRoleMember})
		require.NoError(t, err)
		require.Nil(t, link.Invitation.Email)
		_, err = e.svc.AcceptInvitation(ctx, member, link.Token)
		require.NoError(t, err)

		members, err := e.svc.Members(ctx, member, tm.ID)
		require.NoError(t, err)
		require.Len(t, members, 3)
		require.Equal(t, owner, members[0].UserID)
		require.Equal(t, owner+"@example.com", members[0].Email)
		hidden, err := e.svc.Invitations(ctx, member, tm.ID)
		require.NoError(t, err)
		require.Empty(t, hidden, "members see no invitations")

		teams, err := e.svc.Teams(ctx, member)
		require.NoError(t, err)
		require.Len(t, teams, 1)
		require.Equal(t, models.TeamRoleMember, teams[0].Role)

		m, err := e.svc.ChangeRole(ctx, admin, tm.ID, member, models.TeamRoleAdmin)
		require.NoError(t, err)
		require.Equal(t, models.TeamRoleAdmin, m.Role)
		_, err = e.svc.RemoveMember(ctx, admin, tm.ID, member)
		require.NoError(t, err)

		moved, err := e.svc.TransferOwnership(ctx, owner, tm.ID, admin)
		require.NoError(t, err)
		require.Equal(t, models.TeamRoleAdmin, moved.Role)
		require.NoError(t, e.svc.LeaveTeam(ctx, owner, tm.ID), "no longer the last owner")
		_, err = e.svc.Team(ctx, owner, tm.ID)
		testkit.RequireCode(t, err, models.CodeNotFound, "id")

		log, err := e.svc.TeamAuditLog(ctx, admin, tm.ID, 0, "")
		require.NoError(t, err)
		require.Len(t, log.Edges, 8, "every event of the team, in its log")
		require.Equal(t, models.AuditTeamMemberLeft, log.Edges[0].Node.Kind, "newest first")
		_, err = e.svc.TeamAuditLog(ctx, owner, tm.ID, 0, "")
		testkit.RequireCode(t, err, models.CodeNotFound, "teamId")
		other, err := e.svc.CreateTeam(ctx, member, "Other")
		require.NoError(t, err)
		otherLog, err := e.svc.TeamAuditLog(ctx, member, other.ID, 0, "")
		require.NoError(t, err)
		require.Empty(t, otherLog.Edges, "another team's log holds none of these")

		var kinds []string
		require.NoError(t, db.NewSelect().Table("audit_log").Column("kind").Order("at", "id").Scan(ctx, &kinds))
		require.ElementsMatch(t, []string{
			"TEAM_INVITATION_CREATED", "TEAM_INVITATION_ACCEPTED", "TEAM_INVITATION_CREATED", "TEAM_INVITATION_ACCEPTED",
			"TEAM_ROLE_CHANGED", "TEAM_MEMBER_REMOVED", "TEAM_OWNERSHIP_TRANSFERRED", "TEAM_MEMBER_LEFT",
		}, kinds)
	})
}

func TestTeamBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db)
		ctx := context.Background()
		owner, admin, member, stranger := e.user(t), e.user(t), e.user(t), e.user(t)
		tm, err := e.svc.CreateTeam(ctx, owner, "Acme")
		require.NoError(t, err)
		e.join(t, owner, tm.ID, admin, models.TeamRoleAdmin)
		e.join(t, owner, tm.ID, member, models.TeamRoleMember)

		expired, err := e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Email: email(stranger), Role: models.TeamRoleMember})
		require.NoError(t, err)
		e.clock.Add(team.InvitationTTL)
		revoked, err := e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Link: true, Role: models.TeamRoleMember})
		require.NoError(t, err)
		_, err = e.svc.RevokeInvitation(ctx, admin, revoked.Invitation.ID)
		require.NoError(t, err)
		used, err := e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Link: true, Role: models.TeamRoleMember})
		require.NoError(t, err)
		other := e.user(t)
		_, err = e.svc.AcceptInvitation(ctx, other, used.Token)
		require.NoError(t, err)
		forOther, err := e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Email: email(e.user(t)), Role: models.TeamRoleMember})
		require.NoError(t, err)

		for _, c := range []struct {
			name, code, field string
			call              func() error
		}{
			{"empty name", models.CodeBadUserInput, "name", func() error { _, err := e.svc.CreateTeam(ctx, stranger, "   "); return err }},
			{"long name", models.CodeBadUserInput, "name", func() error {
				_, err := e.svc.CreateTeam(ctx, stranger, strings.Repeat("é", team.MaxNameLength+1))
				return err
			}},
			{"unknown team", models.CodeNotFound, "id", func() error { _, err := e.svc.Team(ctx, owner, "nope"); return err }},
			{"stranger reads", models.CodeNotFound, "id", func() error { _, err := e.svc.Team(ctx, stranger, tm.ID); return err }},
			{"stranger invites", models.CodeNotFound, "teamId", func() error {
				_, err := e.svc.InviteMember(ctx, stranger, models.InviteMemberInput{TeamID: tm.ID, Link: true, Role: models.TeamRoleMember})
				return err
			}},
			{"member invites", models.CodeForbidden, "teamId", func() error {
				_, err := e.svc.InviteMember(ctx, member, models.InviteMemberInput{TeamID: tm.ID, Link: true, Role: models.TeamRoleMember})
				return err
			}},
			{"admin invites an owner", models.CodeForbidden, "role", func() error {
				_, err := e.svc.InviteMember(ctx, admin, models.InviteMemberInput{TeamID: tm.ID, Link: true, Role: models.TeamRoleOwner})
				return err
			}},
			{"bad email", models.CodeBadUserInput, "email", func() error {
				bad := "not-an-email"
				_, err := e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Email: &bad, Role: models.TeamRoleMember})
				return err
			}},
			{"member's email", models.CodeConflict, "email", func() error {
				_, err := e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Email: email(member), Role: models.TeamRoleMember})
				return err
			}},
			{"bad role", models.CodeBadUserInput, "role", func() error {
				_, err := e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Link: true, Role: "KING"})
				return err
			}},
			{"unknown token", models.CodeNotFound, "token", func() error { _, err := e.svc.AcceptInvitation(ctx, stranger, "inv_nope"); return err }},
			{"expired", models.CodeBadUserInput, "token", func() error { _, err := e.svc.AcceptInvitation(ctx, stranger, expired.Token); return err }},
			{"revoked", models.CodeBadUserInput, "token", func() error { _, err := e.svc.AcceptInvitation(ctx, stranger, revoked.Token); return err }},
			{"reused", models.CodeConflict, "token", func() error { _, err := e.svc.AcceptInvitation(ctx, stranger, used.Token); return err }},
			{"wrong email", models.CodeForbidden, "token", func() error { _, err := e.svc.AcceptInvitation(ctx, stranger, forOther.Token); return err }},
			{"revoke twice", models.CodeConflict, "id", func() error { _, err := e.svc.RevokeInvitation(ctx, owner, revoked.Invitation.ID); return err }},
			{"member revokes", models.CodeNotFound, "id", func() error { _, err := e.svc.RevokeInvitation(ctx, member, forOther.Invitation.ID); return err }},
			{"last owner leaves", models.CodeConflict, "teamId", func() error { return e.svc.LeaveTeam(ctx, owner, tm.ID) }},
			{"last owner demoted", models.CodeConflict, "role", func() error {
				_, err := e.svc.ChangeRole(ctx, owner, tm.ID, owner, models.TeamRoleAdmin)
				return err
			}},
			{"last owner removed", models.CodeConflict, "userId", func() error { _, err := e.svc.RemoveMember(ctx, owner, tm.ID, owner); return err }},
			{"admin demotes owner", models.CodeForbidden, "userId", func() error {
				_, err := e.svc.ChangeRole(ctx, admin, tm.ID, owner, models.TeamRoleMember)
				return err
			}},
			{"admin makes owner", models.CodeForbidden, "role", func() error {
				_, err := e.svc.ChangeRole(ctx, admin, tm.ID, member, models.TeamRoleOwner)
				return err
			}},
			{"member removes", models.CodeForbidden, "teamId", func() error { _, err := e.svc.RemoveMember(ctx, member, tm.ID, admin); return err }},
			{"remove a stranger", models.CodeNotFound, "userId", func() error { _, err := e.svc.RemoveMember(ctx, owner, tm.ID, stranger); return err }},
			{"admin transfers", models.CodeForbidden, "teamId", func() error { _, err := e.svc.TransferOwnership(ctx, admin, tm.ID, member); return err }},
			{"member reads the team's log", models.CodeForbidden, "teamId", func() error {
				_, err := e.svc.TeamAuditLog(ctx, member, tm.ID, 0, "")
				return err
			}},
			{"stranger reads the team's log", models.CodeNotFound, "teamId", func() error {
				_, err := e.svc.TeamAuditLog(ctx, stranger, tm.ID, 0, "")
				return err
			}},
			{"transfer to a stranger", models.CodeNotFound, "userId", func() error {
				_, err := e.svc.TransferOwnership(ctx, owner, tm.ID, stranger)
				return err
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := e.state(t, tm.ID)
				testkit.RequireCode(t, c.call(), c.code, c.field)
				require.Equal(t, before, e.state(t, tm.ID), "nothing changed")
			})
		}
		teams, err := e.svc.Teams(ctx, stranger)
		require.NoError(t, err)
		require.Empty(t, teams, "refused creations made no team")
	})
}

// TestLastOwnerUnderRace has two owners demote, remove and leave at once, many
// times: the team's lock orders them, so the second sees the first's change and an
// owner stays. (Without the lock, PostgreSQL lets both count two owners and go on.)
func TestLastOwnerUnderRace(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db)
		ctx := context.Background()
		for round := range 18 {
			a, b := e.user(t), e.user(t)
			tm, err := e.svc.CreateTeam(ctx, a, "race")
			require.NoError(t, err)
			e.join(t, a, tm.ID, b, models.TeamRoleOwner)
			ops := []func(me, other string) error{
				func(me, _ string) error { return e.svc.LeaveTeam(ctx, me, tm.ID) },
				func(me, _ string) error {
					_, err := e.svc.ChangeRole(ctx, me, tm.ID, me, models.TeamRoleMember)
					return err
				},
				func(me, other string) error { _, err := e.svc.RemoveMember(ctx, me, tm.ID, other); return err },
			}
			opA, opB := ops[round%3], ops[(round/3+round)%3]
			var wg sync.WaitGroup
			errs := make([]error, 2)
			start := make(chan struct{})
			wg.Go(func() { <-start; errs[0] = opA(a, b) })
			wg.Go(func() { <-start; errs[1] = opB(b, a) })
			close(start)
			wg.Wait()
			owners, err := db.NewSelect().Table("team_members").Where("team_id = ? AND role = 'OWNER'", tm.ID).Count(ctx)
			require.NoError(t, err)
			require.EqualValues(t, 1, owners, "round %d: exactly one owner left (errors %v)", round, errs)
			for _, err := range errs {
				if err != nil {
					// Some orders make the other's call find no team or no member: both
					// are refusals, and the owner count above is what matters.
					require.Contains(t, []string{models.CodeConflict, models.CodeNotFound, models.CodeForbidden}, models.ErrorCode(err), "%v", err)
				}
			}
		}
	})
}

// TestInvitationNeedsItsInvitersRights: an invitation speaks for its inviter as they
// are when it is accepted. An admin's link invitation dies with the admin's removal;
// an owner's OWNER invitation with the owner's demotion. Refused: FORBIDDEN on token,
// nothing changed. An invitation of an inviter still entitled is accepted.
func TestInvitationNeedsItsInvitersRights(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db)
		ctx := context.Background()
		owner, coOwner, admin, joiner := e.user(t), e.user(t), e.user(t), e.user(t)
		tm, err := e.svc.CreateTeam(ctx, owner, "Acme")
		require.NoError(t, err)
		e.join(t, owner, tm.ID, coOwner, models.TeamRoleOwner)
		e.join(t, owner, tm.ID, admin, models.TeamRoleAdmin)

		byAdmin, err := e.svc.InviteMember(ctx, admin, models.InviteMemberInput{TeamID: tm.ID, Link: true, Role: models.TeamRoleAdmin})
		require.NoError(t, err)
		_, err = e.svc.RemoveMember(ctx, owner, tm.ID, admin)
		require.NoError(t, err)
		ownerInvite, err := e.svc.InviteMember(ctx, coOwner, models.InviteMemberInput{TeamID: tm.ID, Link: true, Role: models.TeamRoleOwner})
		require.NoError(t, err)
		memberInvite, err := e.svc.InviteMember(ctx, coOwner, models.InviteMemberInput{TeamID: tm.ID, Link: true, Role: models.TeamRoleMember})
		require.NoError(t, err)
		_, err = e.svc.ChangeRole(ctx, owner, tm.ID, coOwner, models.TeamRoleAdmin)
		require.NoError(t, err)

		for _, token := range []string{byAdmin.Token, ownerInvite.Token} {
			before := e.state(t, tm.ID)
			_, err := e.svc.AcceptInvitation(ctx, joiner, token)
			testkit.RequireCode(t, err, models.CodeForbidden, "token")
			require.Equal(t, before, e.state(t, tm.ID), "a refused accept changes nothing")
		}
		// The demoted owner is an admin still: a member invitation of theirs holds.
		_, err = e.svc.AcceptInvitation(ctx, joiner, memberInvite.Token)
		require.NoError(t, err)
	})
}

// TestCreatedTeamsAreCapped: a user creates teams while fewer than
// Deps.TeamsPerOwner they created exist; one more is QUOTA_EXCEEDED (field name) and
// makes nothing, even after handing their teams to someone else; deleting one makes
// room again.
func TestCreatedTeamsAreCapped(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		const limit = 3
		e := newEnv(t, db, func(d *team.Deps) { d.TeamsPerOwner = limit })
		ctx := context.Background()
		owner, heir := e.user(t), e.user(t)
		var ids []string
		for i := range limit {
			tm, err := e.svc.CreateTeam(ctx, owner, "Team "+strconv.Itoa(i))
			require.NoError(t, err)
			ids = append(ids, tm.ID)
		}
		_, err := e.svc.CreateTeam(ctx, owner, "One too many")
		testkit.RequireCode(t, err, models.CodeQuotaExceeded, "name")
		teams, err := e.svc.Teams(ctx, owner)
		require.NoError(t, err)
		require.Len(t, teams, limit, "nothing was made")

		e.join(t, owner, ids[1], heir, models.TeamRoleMember)
		_, err = e.svc.TransferOwnership(ctx, owner, ids[1], heir)
		require.NoError(t, err)
		_, err = e.svc.CreateTeam(ctx, owner, "After a handover")
		testkit.RequireCode(t, err, models.CodeQuotaExceeded, "name")

		require.NoError(t, e.svc.DeleteTeam(ctx, owner, ids[0]))
		_, err = e.svc.CreateTeam(ctx, owner, "Room again")
		require.NoError(t, err)
	})
}
