package billing_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// newTeam adds a team owned by owner, as the team area would.
func newTeam(t *testing.T, db bun.IDB, owner string, now time.Time) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	_, err := db.NewInsert().Model(&models.Team{ID: id, Name: "T", CreatedBy: owner, CreatedAt: now}).Exec(context.Background())
	require.NoError(t, err)
	_, err = db.NewInsert().Model(&models.TeamMember{TeamID: id, UserID: owner, Role: models.TeamRoleOwner, JoinedAt: now}).Exec(context.Background())
	require.NoError(t, err)
	return id
}

// teamLog is the kinds and details of the team's log, newest first.
func (e *env) teamLog(t *testing.T, teamID string) ([]models.AuditKind, []models.AuditDetail) {
	t.Helper()
	conn, err := e.audit.TeamAuditLog(context.Background(), teamID, 100, "")
	require.NoError(t, err)
	var kinds []models.AuditKind
	var details []models.AuditDetail
	for _, edge := range conn.Edges {
		kinds, details = append(kinds, edge.Node.Kind), append(details, edge.Node.Detail)
	}
	return kinds, details
}

// TestTeamSubscription: a team's checkout makes a customer of the team's own (never
// its owner's); the subscription's webhooks set the team's tier and paid seats, not
// the owner's tier; seat changes reach the team's log and its event topic; a
// subscription that ends leaves the team free, with the reason in its entitlements,
// and the owner may check out again.
func TestTeamSubscription(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		owner := e.newUser(t)
		teamID := newTeam(t, db, owner, e.clock.Now())
		events, err := e.bus.Subscribe(ctx, models.TeamEventsTopic(teamID))
		require.NoError(t, err)

		p, err := e.svc.TeamPlan(ctx, teamID)
		require.NoError(t, err)
		require.Equal(t, models.TeamPlan{Tier: models.TierFree, Seats: models.FreeTeamSeats, Limited: true, Status: models.SubscriptionNone,
			Note: "the team has no subscription: its owner subscribes with teamCheckout"}, p)
		_, err = e.svc.CreateTeamBillingPortalSession(ctx, owner, teamID)
		require.Equal(t, models.CodeNotFound, codeOf(err), "no portal before the first checkout")

		_, err = e.svc.CreateTeamCheckoutSession(ctx, owner, teamID, 0)
		require.Equal(t, models.CodeBadUserInput, codeOf(err))
		_, err = e.svc.CreateTeamCheckoutSession(ctx, owner, "no-such-team", 2)
		require.Equal(t, models.CodeNotFound, codeOf(err))
		cs, err := e.svc.CreateTeamCheckoutSession(ctx, owner, teamID, 5)
		require.NoError(t, err)
		require.NotEmpty(t, cs.URL)
		created := e.rec.Find("POST", "/v1/customers")
		require.Len(t, created, 1)
		require.Equal(t, teamID, created[0].Form.Get("metadata[team_id]"))
		require.Empty(t, created[0].Form.Get("metadata[user_id]"), "the team's customer is not its owner's")
		checkout := e.rec.Find("POST", "/v1/checkout/sessions")
		require.Len(t, checkout, 1)
		require.Equal(t, "5", checkout[0].Form.Get("line_items[0][quantity]"))
		require.Equal(t, priceTeam, checkout[0].Form.Get("line_items[0][price]"))
		require.Equal(t, teamID, checkout[0].Form.Get("subscription_data[metadata][team_id]"))
		require.Zero(t, count(t, db, "billing_accounts", "user_id = ?", owner), "the owner's own billing is untouched")
		var customer string
		require.NoError(t, db.NewSelect().Table("team_billing_accounts").Column("customer_id").Where("team_id = ?", teamID).Scan(ctx, &customer))

		t0 := e.clock.Now().Unix()
		e.mustDeliver(t, subEvent("evt_t1", "customer.subscription.created", t0, sub{ID: "sub_team", Customer: customer, Status: "active", Price: priceTeam, Quantity: 5}))
		p, err = e.svc.TeamPlan(ctx, teamID)
		require.NoError(t, err)
		require.Equal(t, models.TierTeam, p.Tier)
		require.Equal(t, 5, p.Seats)
		require.Empty(t, p.Note)
		tier, err := e.svc.TierOf(ctx, owner)
		require.NoError(t, err)
		require.Equal(t, models.TierFree, tier, "the team's subscription is not its owner's tier")
		ev := nextTeamEvent(t, events)
		tierTeam, five := models.TierTeam, 5
		require.Equal(t, models.TeamEvent{Type: models.TeamSeatsChanged, TeamID: teamID, Tier: &tierTeam, Seats: &five, At: ev.At}, ev)

		_, err = e.svc.CreateTeamCheckoutSession(ctx, owner, teamID, 6)
		require.Equal(t, models.CodeConflict, codeOf(err), "one live subscription per team: seats change in the portal")
		portal, err := e.svc.CreateTeamBillingPortalSession(ctx, owner, teamID)
		require.NoError(t, err)
		require.NotEmpty(t, portal.URL)
		require.Equal(t, customer, e.rec.Find("POST", "/v1/billing_portal/sessions")[0].Form.Get("customer"))

		// The portal added seats.
		e.mustDeliver(t, subEvent("evt_t2", "customer.subscription.updated", t0+60, sub{ID: "sub_team", Customer: customer, Status: "active", Price: priceTeam, Quantity: 8}))
		p, err = e.svc.TeamPlan(ctx, teamID)
		require.NoError(t, err)
		require.Equal(t, 8, p.Seats)
		require.Equal(t, 8, *nextTeamEvent(t, events).Seats)

		// The subscription ends: the team is free, says why, and may subscribe again.
		e.mustDeliver(t, subEvent("evt_t3", "customer.subscription.deleted", t0+120, sub{ID: "sub_team", Customer: customer, Status: "canceled", Price: priceTeam, Quantity: 8}))
		p, err = e.svc.TeamPlan(ctx, teamID)
		require.NoError(t, err)
		require.Equal(t, models.TierFree, p.Tier)
		require.Equal(t, models.FreeTeamSeats, p.Seats)
		require.Contains(t, p.Note, "CANCELED")
		ev = nextTeamEvent(t, events)
		require.Equal(t, models.TierFree, *ev.Tier)
		ents, err := e.svc.TeamEntitlements(ctx, teamID)
		require.NoError(t, err)
		for _, ent := range ents {
			if ent.Feature == models.FeatureSSO {
				require.False(t, ent.Allowed)
				require.Contains(t, ent.Reason, "teamCheckout", "the refusal says how to pay again")
			}
		}
		_, err = e.svc.CreateTeamCheckoutSession(ctx, owner, teamID, 3)
		require.NoError(t, err, "a lapsed team checks out again")
		require.Len(t, e.rec.Find("POST", "/v1/customers"), 1, "with the customer it has")

		kinds, details := e.teamLog(t, teamID)
		require.Equal(t, []models.AuditKind{models.AuditTeamCheckoutStarted, models.AuditTeamSeatsChanged, models.AuditTeamSeatsChanged,
			models.AuditTeamSeatsChanged, models.AuditTeamCheckoutStarted}, kinds)
		require.Equal(t, "8", details[1]["fromSeats"])
		require.Equal(t, "1", details[1]["toSeats"])
		require.Equal(t, "team", details[1]["fromTier"])
		require.Equal(t, "free", details[1]["toTier"])
		require.Equal(t, "stripe", details[1]["by"])
		require.Equal(t, "5", details[3]["toSeats"])
		require.Contains(t, auditKinds(t, e.audit, owner), models.AuditTeamSeatsChanged, "in the billing contact's own log too")
	})
}

// TestTeamSubscriptionGrace: a team whose payment failed keeps its tier and seats for
// the grace, and is free once it ended, before anything sweeps.
func TestTeamSubscriptionGrace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.NewDB(t, testkit.SQLite))
	ctx := context.Background()
	owner := e.newUser(t)
	teamID := newTeam(t, e.db, owner, e.clock.Now())
	_, err := e.svc.CreateTeamCheckoutSession(ctx, owner, teamID, 4)
	require.NoError(t, err)
	var customer string
	require.NoError(t, e.db.NewSelect().Table("team_billing_accounts").Column("customer_id").Where("team_id = ?", teamID).Scan(ctx, &customer))
	t0 := e.clock.Now().Unix()
	e.mustDeliver(t, subEvent("evt_g1", "customer.subscription.created", t0, sub{ID: "sub_tg", Customer: customer, Status: "active", Price: priceTeam, Quantity: 4}))
	e.mustDeliver(t, invoiceEvent("evt_g2", "invoice.payment_failed", t0+1, "sub_tg", customer))
	p, err := e.svc.TeamPlan(ctx, teamID)
	require.NoError(t, err)
	require.Equal(t, models.TierTeam, p.Tier)
	require.Equal(t, 4, p.Seats)
	e.clock.Add(grace + time.Minute)
	p, err = e.svc.TeamPlan(ctx, teamID)
	require.NoError(t, err)
	require.Equal(t, models.TierFree, p.Tier)
	require.Equal(t, models.FreeTeamSeats, p.Seats)
	require.Contains(t, p.Note, "grace period ended")

	// The sweep brings the team's log and subscribers in line, once.
	events, err := e.bus.Subscribe(ctx, models.TeamEventsTopic(teamID))
	require.NoError(t, err)
	n, err := e.svc.ExpireGrace(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, models.TierFree, *nextTeamEvent(t, events).Tier)
	kinds, details := e.teamLog(t, teamID)
	require.Equal(t, models.AuditTeamSeatsChanged, kinds[0])
	require.Equal(t, "free", details[0]["toTier"])
	require.Contains(t, details[0]["reason"], "grace period ended")
	n, err = e.svc.ExpireGrace(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "running it again changes nothing")
}

func nextTeamEvent(t *testing.T, ch <-chan []byte) models.TeamEvent {
	t.Helper()
	select {
	case payload := <-ch:
		var ev models.TeamEvent
		require.NoError(t, json.Unmarshal(payload, &ev))
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no team event")
		return models.TeamEvent{}
	}
}
