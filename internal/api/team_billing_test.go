package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/stripemock"
)

// TestTeamSeatsOverGraphQL: with Stripe (stripe-mock), a team without a subscription
// has its owner's seat only; inviting past the paid seats is PAYMENT_REQUIRED with
// used and paid in the extensions and changes nothing; the owner's teamCheckout and
// Stripe's webhook give the team its seats and tier; a subscription that ends leaves
// the members in place on the free tier, with the reason, and invitations refused.
func TestTeamSeatsOverGraphQL(t *testing.T) {
	t.Parallel()
	mock := stripemock.Start(t)
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, d, withStripe(mock.URL), withoutRateLimits)
			ts := serve(t, a)
			owner, _, _ := a.register(t, "seat-owner@example.com")
			data, errs := a.do(t, owner, `mutation { createTeam(name: "Paid") { id } }`, nil)
			require.Empty(t, errs)
			teamID := data["createTeam"].(map[string]any)["id"].(string)
			invite := `mutation($t: ID!) { inviteMember(teamId: $t, link: true) { token } }`
			plan := `query($t: ID!) { team(id: $t) { tier seatsUsed seatsPaid entitlements { feature allowed reason } } }`

			data, errs = a.do(t, owner, plan, map[string]any{"t": teamID})
			require.Empty(t, errs)
			require.Equal(t, map[string]any{"tier": "FREE", "seatsUsed": float64(1), "seatsPaid": float64(1)}, pick(data["team"], "tier", "seatsUsed", "seatsPaid"))

			before := a.teamRows(t, teamID)
			_, errs = a.do(t, owner, invite, map[string]any{"t": teamID})
			requireError(t, errs, "PAYMENT_REQUIRED", "teamId", "pays for")
			require.EqualValues(t, 1, errs[0].Extensions["used"])
			require.EqualValues(t, 1, errs[0].Extensions["paid"])
			require.Equal(t, before, a.teamRows(t, teamID), "nothing changed")

			data, errs = a.do(t, owner, `mutation($t: ID!) { teamCheckout(teamId: $t, seats: 3) { url } }`, map[string]any{"t": teamID})
			require.Empty(t, errs)
			require.NotEmpty(t, data["teamCheckout"].(map[string]any)["url"])
			var customer string
			require.NoError(t, a.db.NewSelect().Table("team_billing_accounts").Column("customer_id").Where("team_id = ?", teamID).Scan(context.Background(), &customer))
			require.Equal(t, http.StatusOK, postWebhook(t, ts.URL, testWebhookSecret, stripeEvent("evt_team_created", "customer.subscription.created", teamSubscription(customer, "active", 3))))

			data, errs = a.do(t, owner, plan, map[string]any{"t": teamID})
			require.Empty(t, errs)
			require.Equal(t, map[string]any{"tier": "TEAM", "seatsUsed": float64(1), "seatsPaid": float64(3)}, pick(data["team"], "tier", "seatsUsed", "seatsPaid"))
			data, errs = a.do(t, owner, `{ me { tier } }`, nil)
			require.Empty(t, errs)
			require.Equal(t, "FREE", data["me"].(map[string]any)["tier"], "the team pays for the team, not for its owner")

			for range 2 {
				_, errs = a.do(t, owner, invite, map[string]any{"t": teamID})
				require.Empty(t, errs)
			}
			_, errs = a.do(t, owner, invite, map[string]any{"t": teamID})
			requireError(t, errs, "PAYMENT_REQUIRED", "teamId", "")
			require.EqualValues(t, 3, errs[0].Extensions["used"])
			require.EqualValues(t, 3, errs[0].Extensions["paid"])

			data, errs = a.do(t, owner, `query($t: ID!) { teamAuditLog(teamId: $t) { edges { node { kind detail { key value } } } } }`, map[string]any{"t": teamID})
			require.Empty(t, errs)
			var kinds []string
			for _, e := range data["teamAuditLog"].(map[string]any)["edges"].([]any) {
				kinds = append(kinds, e.(map[string]any)["node"].(map[string]any)["kind"].(string))
			}
			require.Contains(t, kinds, "TEAM_CHECKOUT_STARTED")
			require.Contains(t, kinds, "TEAM_SEATS_CHANGED")

			// The subscription ends: the team is free, says why, and takes no one more.
			require.Equal(t, http.StatusOK, postWebhook(t, ts.URL, testWebhookSecret, stripeEvent("evt_team_deleted", "customer.subscription.deleted", teamSubscription(customer, "canceled", 3))))
			data, errs = a.do(t, owner, plan, map[string]any{"t": teamID})
			require.Empty(t, errs)
			tm := data["team"].(map[string]any)
			require.Equal(t, "FREE", tm["tier"])
			require.EqualValues(t, 3, tm["seatsUsed"], "the team keeps what it has")
			for _, e := range tm["entitlements"].([]any) {
				if ent := e.(map[string]any); ent["feature"] == "SSO" {
					require.False(t, ent["allowed"].(bool))
					require.True(t, strings.Contains(ent["reason"].(string), "CANCELED"), ent["reason"])
				}
			}
		})
	}
}

func teamSubscription(customer, status string, seats int) map[string]any {
	return map[string]any{
		"id": "sub_team_" + customer, "object": "subscription", "customer": customer, "status": status,
		"cancel_at_period_end": false, "current_period_end": time.Now().Add(30 * 24 * time.Hour).Unix(), "created": time.Now().Unix(),
		"metadata": map[string]any{},
		"items": map[string]any{"object": "list", "data": []any{map[string]any{
			"id": "si_team", "object": "subscription_item", "quantity": seats, "price": map[string]any{"id": "price_team", "object": "price"},
		}}},
	}
}

// pick returns the named keys of an object.
func pick(v any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		out[k] = v.(map[string]any)[k]
	}
	return out
}
