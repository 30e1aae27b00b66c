package team_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/team"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// billing is the Billing fake: a plan the test sets, how often it was read, and what
// checkout and the portal were asked for.
type billing struct {
	mu        sync.Mutex
	plan      models.TeamPlan
	plansRead int
	checkouts []int
}

func (b *billing) set(p models.TeamPlan) { b.mu.Lock(); b.plan = p; b.mu.Unlock() }

func (b *billing) TeamPlan(context.Context, string) (models.TeamPlan, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.plansRead++
	return b.plan, nil
}

func (b *billing) reads() int { b.mu.Lock(); defer b.mu.Unlock(); return b.plansRead }

func (b *billing) TeamEntitlements(context.Context, string) ([]*models.Entitlement, error) {
	return []*models.Entitlement{}, nil
}

func (b *billing) CreateTeamCheckoutSession(_ context.Context, _, _ string, seats int) (*models.CheckoutSession, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.checkouts = append(b.checkouts, seats)
	return &models.CheckoutSession{ID: "cs_1", URL: "https://checkout.test/cs_1"}, nil
}

func (b *billing) CreateTeamBillingPortalSession(context.Context, string, string) (*models.PortalSession, error) {
	return &models.PortalSession{URL: "https://portal.test"}, nil
}

func paid(seats int) models.TeamPlan {
	return models.TeamPlan{Tier: models.TierTeam, Seats: seats, Limited: true, Status: models.SubscriptionActive}
}

// TestSeats: members and pending invitations hold the seats the team pays for; an
// invitation past them is PAYMENT_REQUIRED with the counts and changes nothing; a
// revoked invitation frees its seat; a team whose seats went down lets nobody more
// join; checkout and the portal are for owners, for at least the seats in use.
func TestSeats(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		b := &billing{plan: paid(3)}
		e := newEnv(t, db, func(d *team.Deps) { d.Billing = b })
		ctx := context.Background()
		owner, admin, member := e.user(t), e.user(t), e.user(t)
		tm, err := e.svc.CreateTeam(ctx, owner, "Seats")
		require.NoError(t, err)
		e.join(t, owner, tm.ID, admin, models.TeamRoleAdmin)
		pending, err := e.svc.InviteMember(ctx, admin, models.InviteMemberInput{TeamID: tm.ID, Link: true, Role: models.TeamRoleMember})
		require.NoError(t, err)
		used, err := e.svc.SeatsUsed(ctx, owner, tm.ID)
		require.NoError(t, err)
		require.Equal(t, 3, used, "two members and one pending invitation")

		before := e.state(t, tm.ID)
		_, err = e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Email: email(member), Role: models.TeamRoleMember})
		var appErr *models.Error
		require.True(t, errors.As(err, &appErr), "%v", err)
		require.Equal(t, models.CodePaymentRequired, appErr.Code)
		require.Equal(t, "teamId", appErr.Field)
		require.Equal(t, &models.SeatCount{Used: 3, Paid: 3}, appErr.Seats)
		require.Equal(t, before, e.state(t, tm.ID), "nothing changed")

		// Revoking frees the seat.
		_, err = e.svc.RevokeInvitation(ctx, owner, pending.Invitation.ID)
		require.NoError(t, err)
		inv, err := e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Email: email(member), Role: models.TeamRoleMember})
		require.NoError(t, err)

		// The team's seats went down to 2 (the portal, or a lapse to free): the pending
		// invitation cannot be accepted, and the members stay.
		b.set(paid(2))
		before = e.state(t, tm.ID)
		_, err = e.svc.AcceptInvitation(ctx, member, inv.Token)
		require.True(t, errors.As(err, &appErr))
		require.Equal(t, models.CodePaymentRequired, appErr.Code)
		require.Equal(t, "token", appErr.Field)
		require.Equal(t, &models.SeatCount{Used: 2, Paid: 2}, appErr.Seats)
		require.Equal(t, before, e.state(t, tm.ID))
		b.set(paid(3))
		_, err = e.svc.AcceptInvitation(ctx, member, inv.Token)
		require.NoError(t, err)

		plan, err := e.svc.Plan(ctx, member, tm.ID)
		require.NoError(t, err)
		require.Equal(t, models.TierTeam, plan.Tier, "a member reads the team's tier")
		_, err = e.svc.Plan(ctx, e.user(t), tm.ID)
		require.Equal(t, models.CodeNotFound, models.ErrorCode(err))

		// Checkout: owners only, for at least the seats in use.
		_, err = e.svc.Checkout(ctx, admin, tm.ID, 10)
		require.Equal(t, models.CodeForbidden, models.ErrorCode(err))
		_, err = e.svc.BillingPortal(ctx, member, tm.ID)
		require.Equal(t, models.CodeForbidden, models.ErrorCode(err))
		_, err = e.svc.Checkout(ctx, e.user(t), tm.ID, 10)
		require.Equal(t, models.CodeNotFound, models.ErrorCode(err))
		_, err = e.svc.Checkout(ctx, owner, tm.ID, 2)
		require.True(t, errors.As(err, &appErr))
		require.Equal(t, models.CodeBadUserInput, appErr.Code)
		require.Equal(t, "seats", appErr.Field)
		_, err = e.svc.Checkout(ctx, owner, tm.ID, 3)
		require.NoError(t, err)
		_, err = e.svc.BillingPortal(ctx, owner, tm.ID)
		require.NoError(t, err)
		require.Equal(t, []int{3}, b.checkouts, "only the owner's valid checkout reached billing")
	})
}

// TestSeatsWithoutBilling: with billing off, seats are not counted.
func TestSeatsWithoutBilling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.NewDB(t, testkit.SQLite))
	ctx := context.Background()
	owner := e.user(t)
	tm, err := e.svc.CreateTeam(ctx, owner, "Free")
	require.NoError(t, err)
	for range 3 {
		_, err := e.svc.InviteMember(ctx, owner, models.InviteMemberInput{TeamID: tm.ID, Link: true, Role: models.TeamRoleMember})
		require.NoError(t, err)
	}
	_, err = e.svc.Checkout(ctx, owner, tm.ID, 5)
	require.Equal(t, models.CodeBillingNotConfigured, models.ErrorCode(err))
}
