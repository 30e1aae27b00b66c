package billing_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/billing"
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
		require.Equal(t, []models.AuditKind{models.AuditTeamCheckoutStarted, models.AuditSubscriptionEnded, models.AuditTeamSeatsChanged,
			models.AuditTeamSeatsChanged, models.AuditTeamSeatsChanged, models.AuditTeamCheckoutStarted}, kinds)
		require.Equal(t, "sub_team", details[1]["subscription"])
		require.Equal(t, "8", details[2]["fromSeats"])
		require.Equal(t, "1", details[2]["toSeats"])
		require.Equal(t, "team", details[2]["fromTier"])
		require.Equal(t, "free", details[2]["toTier"])
		require.Equal(t, "stripe", details[2]["by"])
		require.Equal(t, "5", details[4]["toSeats"])
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

// refusing makes Stripe refuse (400, no retry) every request whose path starts with
// one of its prefixes, while on is set; it sits behind the env's recorder.
type refusing struct {
	on       atomic.Bool
	prefixes []string
}

func (r *refusing) RoundTrip(req *http.Request) (*http.Response, error) {
	for _, p := range r.prefixes {
		if r.on.Load() && strings.HasPrefix(req.URL.Path, p) {
			return &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{"Content-Type": {"application/json"}}, Request: req,
				Body: io.NopCloser(strings.NewReader(`{"error":{"type":"invalid_request_error","message":"refused by the test"}}`))}, nil
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (e *env) teamCustomer(t *testing.T, teamID string) string {
	t.Helper()
	var customer string
	require.NoError(t, e.db.NewSelect().Table("team_billing_accounts").Column("customer_id").Where("team_id = ?", teamID).Scan(context.Background(), &customer))
	return customer
}

func (e *env) teamContact(t *testing.T, teamID string) *string {
	t.Helper()
	var contact *string
	require.NoError(t, e.db.NewSelect().Table("team_billing_accounts").Column("contact_user_id").Where("team_id = ?", teamID).Scan(context.Background(), &contact))
	return contact
}

func addMember(t *testing.T, db bun.IDB, teamID, userID string, role models.TeamRole, at time.Time) {
	t.Helper()
	_, err := db.NewInsert().Model(&models.TeamMember{TeamID: teamID, UserID: userID, Role: role, JoinedAt: at}).Exec(context.Background())
	require.NoError(t, err)
}

// TestTeamSeatsLimitedOnlyWhereTeamsCanPay: seats are counted only where a team can
// buy more (Stripe configured and the TEAM tier for sale); elsewhere no team would
// ever get past its first seat.
func TestTeamSeatsLimitedOnlyWhereTeamsCanPay(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	for _, tc := range []struct {
		name    string
		opts    []envOption
		limited bool
	}{
		{"TEAM for sale", nil, true},
		{"Stripe without a TEAM price", []envOption{func(c *billing.Config, _ *billing.Deps) { delete(c.Prices, models.TierTeam) }}, false},
		{"billing off", []envOption{withoutStripe()}, false},
	} {
		e := newEnv(t, db, tc.opts...)
		teamID := newTeam(t, db, e.newUser(t), e.clock.Now())
		p, err := e.svc.TeamPlan(context.Background(), teamID)
		require.NoError(t, err)
		require.Equal(t, tc.limited, p.Limited, tc.name)
	}
}

// TestTeamRedeliveryResolvesTie: a team's same-second disagreement whose question to
// Stripe failed is asked again when Stripe redelivers the event (team events record
// no user).
func TestTeamRedeliveryResolvesTie(t *testing.T) {
	t.Parallel()
	r := &refusing{prefixes: []string{"/v1/subscriptions/"}}
	e := newEnv(t, testkit.NewDB(t, testkit.SQLite))
	e.rec.Next = r
	ctx := context.Background()
	owner := e.newUser(t)
	teamID := newTeam(t, e.db, owner, e.clock.Now())
	_, err := e.svc.CreateTeamCheckoutSession(ctx, owner, teamID, 2)
	require.NoError(t, err)
	customer := e.teamCustomer(t, teamID)
	t0 := e.clock.Now().Unix()
	e.mustDeliver(t, subEvent("evt_r1", "customer.subscription.created", t0, sub{ID: "sub_tie", Customer: customer, Status: "active", Price: pricePro}))
	e.mustDeliver(t, subEvent("evt_r2", "customer.subscription.updated", t0+5, sub{ID: "sub_tie", Customer: customer, Status: "active", Price: pricePro, Cancel: true}))
	r.on.Store(true)
	tie := subEvent("evt_r3", "customer.subscription.updated", t0+5, sub{ID: "sub_tie", Customer: customer, Status: "active", Price: pricePro})
	require.Error(t, e.deliver(t, tie), "asking Stripe failed: worth a retry")
	require.Len(t, e.rec.Find(http.MethodGet, "/v1/subscriptions/sub_tie"), 1)

	r.on.Store(false)
	e.mustDeliver(t, tie) // Stripe's retry
	require.Len(t, e.rec.Find(http.MethodGet, "/v1/subscriptions/sub_tie"), 2, "the redelivery asks Stripe again")
	p, err := e.svc.TeamPlan(ctx, teamID)
	require.NoError(t, err)
	require.True(t, p.CancelAtPeriodEnd, "Stripe's answer settles the tie")
}

// TestTeamBillingEntriesGoToACurrentOwner: a team's billing entries are always in
// the team's log, and in the personal log only of a current owner: never of a billing
// contact demoted since, and still recorded when the contact's account is gone.
func TestTeamBillingEntriesGoToACurrentOwner(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		alice, bob := e.newUser(t), e.newUser(t)
		teamID := newTeam(t, db, alice, e.clock.Now())
		_, err := e.svc.CreateTeamCheckoutSession(ctx, alice, teamID, 2)
		require.NoError(t, err)
		require.Equal(t, alice, *e.teamContact(t, teamID))
		// Alice makes Bob an owner and is made a member.
		addMember(t, db, teamID, bob, models.TeamRoleOwner, e.clock.Now().Add(time.Second))
		_, err = db.NewUpdate().Table("team_members").Set("role = ?", models.TeamRoleMember).Where("team_id = ? AND user_id = ?", teamID, alice).Exec(ctx)
		require.NoError(t, err)

		customer := e.teamCustomer(t, teamID)
		t0 := e.clock.Now().Unix()
		e.mustDeliver(t, subEvent("evt_o1", "customer.subscription.created", t0, sub{ID: "sub_o", Customer: customer, Status: "active", Price: priceTeam, Quantity: 2}))
		kinds, _ := e.teamLog(t, teamID)
		require.Equal(t, models.AuditTeamSeatsChanged, kinds[0])
		require.NotContains(t, auditKinds(t, e.audit, alice), models.AuditTeamSeatsChanged, "a former owner's log")
		require.Contains(t, auditKinds(t, e.audit, bob), models.AuditTeamSeatsChanged, "a current owner's log")

		// A contact whose account is gone: the entry still reaches the team's log.
		carol, dave := e.newUser(t), e.newUser(t)
		other := newTeam(t, db, carol, e.clock.Now())
		addMember(t, db, other, dave, models.TeamRoleOwner, e.clock.Now().Add(time.Second))
		_, err = e.svc.CreateTeamCheckoutSession(ctx, carol, other, 2)
		require.NoError(t, err)
		_, err = db.NewDelete().Table("users").Where("id = ?", carol).Exec(ctx)
		require.NoError(t, err)
		e.mustDeliver(t, subEvent("evt_o2", "customer.subscription.created", t0, sub{ID: "sub_o2", Customer: e.teamCustomer(t, other), Status: "active", Price: priceTeam, Quantity: 2}))
		kinds, _ = e.teamLog(t, other)
		require.Equal(t, []models.AuditKind{models.AuditTeamSeatsChanged}, kinds, "the contact's own entries went with their account")
		require.Equal(t, []models.AuditKind{models.AuditTeamSeatsChanged}, auditKinds(t, e.audit, dave))
	})
}

// TestTeamLapseIsLoggedAndTold: a team's failed payment and cancellation reach the
// team's log and its members (teamEvents), as a user's reach theirs.
func TestTeamLapseIsLoggedAndTold(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.NewDB(t, testkit.SQLite))
	ctx := context.Background()
	owner := e.newUser(t)
	teamID := newTeam(t, e.db, owner, e.clock.Now())
	_, err := e.svc.CreateTeamCheckoutSession(ctx, owner, teamID, 3)
	require.NoError(t, err)
	customer := e.teamCustomer(t, teamID)
	t0 := e.clock.Now().Unix()
	e.mustDeliver(t, subEvent("evt_l1", "customer.subscription.created", t0, sub{ID: "sub_l", Customer: customer, Status: "active", Price: priceTeam, Quantity: 3}))
	events, err := e.bus.Subscribe(ctx, models.TeamEventsTopic(teamID))
	require.NoError(t, err)

	e.mustDeliver(t, invoiceEvent("evt_l2", "invoice.payment_failed", t0+1, "sub_l", customer))
	kinds, details := e.teamLog(t, teamID)
	require.Equal(t, models.AuditPaymentFailed, kinds[0])
	require.Equal(t, teamID, details[0]["team"])
	require.Equal(t, models.TierTeam, *nextTeamEvent(t, events).Tier, "members hear of it; the grace keeps the tier")

	cancel := subEvent("evt_l3", "customer.subscription.updated", t0+2, sub{ID: "sub_l", Customer: customer, Status: "past_due", Price: priceTeam, Quantity: 3, Cancel: true})
	cancel.Previous = map[string]any{"cancel_at_period_end": false}
	e.mustDeliver(t, cancel)
	kinds, _ = e.teamLog(t, teamID)
	require.Equal(t, models.AuditSubscriptionCanceled, kinds[0])
	nextTeamEvent(t, events)
	require.Contains(t, auditKinds(t, e.audit, owner), models.AuditPaymentFailed, "and the owner's own log")
}

// TestTeamCheckoutStoresNothingStripeRefused: a checkout or portal that Stripe
// refuses leaves the team's billing account (and its billing contact) as it was.
func TestTeamCheckoutStoresNothingStripeRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.NewDB(t, testkit.SQLite))
	r := &refusing{prefixes: []string{"/v1/customers"}}
	e.rec.Next = r
	ctx := context.Background()
	alice, bob := e.newUser(t), e.newUser(t)
	teamID := newTeam(t, e.db, alice, e.clock.Now())
	addMember(t, e.db, teamID, bob, models.TeamRoleOwner, e.clock.Now())

	r.on.Store(true)
	_, err := e.svc.CreateTeamCheckoutSession(ctx, alice, teamID, 2)
	require.Error(t, err)
	require.Zero(t, count(t, e.db, "team_billing_accounts", "team_id = ?", teamID), "no account before Stripe made a customer")

	r.on.Store(false)
	_, err = e.svc.CreateTeamCheckoutSession(ctx, alice, teamID, 2)
	require.NoError(t, err)
	require.Equal(t, alice, *e.teamContact(t, teamID))

	r.prefixes = []string{"/v1/checkout/sessions", "/v1/billing_portal/sessions"}
	r.on.Store(true)
	_, err = e.svc.CreateTeamCheckoutSession(ctx, bob, teamID, 2)
	require.Error(t, err)
	require.Equal(t, alice, *e.teamContact(t, teamID), "a refused checkout")
	_, err = e.svc.CreateTeamBillingPortalSession(ctx, bob, teamID)
	require.Error(t, err)
	require.Equal(t, alice, *e.teamContact(t, teamID), "a refused portal")
	r.on.Store(false)
	_, err = e.svc.CreateTeamBillingPortalSession(ctx, bob, teamID)
	require.NoError(t, err)
	require.Equal(t, bob, *e.teamContact(t, teamID))
}

// TestTeamCheckoutRefusedWhileIncomplete: a subscription still incomplete (its first
// payment pending) counts as the team's one subscription.
func TestTeamCheckoutRefusedWhileIncomplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.NewDB(t, testkit.SQLite))
	ctx := context.Background()
	owner := e.newUser(t)
	teamID := newTeam(t, e.db, owner, e.clock.Now())
	_, err := e.svc.CreateTeamCheckoutSession(ctx, owner, teamID, 2)
	require.NoError(t, err)
	e.mustDeliver(t, subEvent("evt_i1", "customer.subscription.created", e.clock.Now().Unix(),
		sub{ID: "sub_i", Customer: e.teamCustomer(t, teamID), Status: "incomplete", Price: priceTeam, Quantity: 2}))
	_, err = e.svc.CreateTeamCheckoutSession(ctx, owner, teamID, 2)
	testkit.RequireCode(t, err, models.CodeConflict, "teamId")
}

// TestTeamSpaceTier: a team's shared space (the users row with the team's ID) has the
// tier and seats the team's subscription grants, which every area reads through
// TierOf; its stored tier follows for the summary to show, but never decides: once the
// subscription ended the space is free, even with a stale stored tier.
func TestTeamSpaceTier(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		owner := e.newUser(t)
		teamID := newTeam(t, db, owner, e.clock.Now())
		stored := func() models.Tier { // the accounts area's stored tier (its fake here)
			tier, err := e.accounts.TierOf(ctx, teamID)
			require.NoError(t, err)
			return tier
		}
		tierOf := func() (models.Tier, int) {
			tier, seats, err := e.svc.TierAndSeats(ctx, teamID)
			require.NoError(t, err)
			return tier, seats
		}
		tier, seats := tierOf()
		require.Equal(t, models.TierFree, tier)
		require.Equal(t, 1, seats)

		_, err := e.svc.CreateTeamCheckoutSession(ctx, owner, teamID, 5)
		require.NoError(t, err)
		var customer string
		require.NoError(t, db.NewSelect().Table("team_billing_accounts").Column("customer_id").Where("team_id = ?", teamID).Scan(ctx, &customer))
		t0 := e.clock.Now().Unix()
		e.mustDeliver(t, subEvent("evt_s1", "customer.subscription.created", t0, sub{ID: "sub_space", Customer: customer, Status: "active", Price: priceTeam, Quantity: 5}))
		tier, seats = tierOf()
		require.Equal(t, models.TierTeam, tier)
		require.Equal(t, 5, seats)
		require.Equal(t, models.TierTeam, stored(), "the summary shows the team's plan")
		ownerTier, err := e.svc.TierOf(ctx, owner)
		require.NoError(t, err)
		require.Equal(t, models.TierFree, ownerTier)

		e.mustDeliver(t, subEvent("evt_s2", "customer.subscription.deleted", t0+60, sub{ID: "sub_space", Customer: customer, Status: "canceled", Price: priceTeam, Quantity: 5}))
		tier, _ = tierOf()
		require.Equal(t, models.TierFree, tier)
		require.Equal(t, models.TierFree, stored())
		_, err = e.accounts.SetTier(ctx, teamID, models.TierTeam)
		require.NoError(t, err)
		tier, _ = tierOf()
		require.Equal(t, models.TierFree, tier, "a stale stored tier never decides a team's")
	})
}
