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

// TierOf and TierAndSeats are the one tier lookup every area reads: the tier
// billing grants now (grace included) with the team tier's seats, and the account's
// tier when no subscription decides.
func TestTierAndSeats(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, withoutStripe())
		ctx := context.Background()
		requireTier := func(user string, tier models.Tier, seats int, msg string) {
			t.Helper()
			gotTier, gotSeats, err := e.svc.TierAndSeats(ctx, user)
			require.NoError(t, err, msg)
			require.Equal(t, tier, gotTier, msg)
			require.Equal(t, seats, gotSeats, msg)
			only, err := e.svc.TierOf(ctx, user)
			require.NoError(t, err, msg)
			require.Equal(t, tier, only, msg)
		}

		never := e.newUser(t)
		requireTier(never, models.TierFree, 1, "never subscribed: the account's tier")
		_, err := e.accounts.SetTier(ctx, never, models.TierTeam)
		require.NoError(t, err)
		requireTier(never, models.TierTeam, 1, "an operator's tier holds; no subscription bills seats")

		team := e.newUser(t)
		e.linkCustomer(t, team, "cus_seats")
		t0 := e.clock.Now().Unix()
		s := sub{ID: "sub_seats", Customer: "cus_seats", Status: "active", Price: priceTeam, Quantity: 3}
		e.mustDeliver(t, subEvent("evt_s1", "customer.subscription.created", t0, s))
		requireTier(team, models.TierTeam, 3, "the team's seats are what Stripe bills")

		e.mustDeliver(t, invoiceEvent("evt_s2", "invoice.payment_failed", t0+60, "sub_seats", "cus_seats"))
		e.clock.Set(time.Unix(t0+60, 0).UTC().Add(grace - time.Second))
		requireTier(team, models.TierTeam, 3, "within the grace")
		e.clock.Set(time.Unix(t0+60, 0).UTC().Add(grace))
		requireTier(team, models.TierFree, 1, "free once the grace ended, before the sweep")
		require.Equal(t, models.TierTeam, e.userTier(t, team), "the account's tier waits for the sweep")

		pro := e.newUser(t)
		e.linkCustomer(t, pro, "cus_one")
		e.mustDeliver(t, subEvent("evt_s3", "customer.subscription.created", e.clock.Now().Unix(),
			sub{ID: "sub_one", Customer: "cus_one", Status: "active", Price: pricePro, Quantity: 2}))
		requireTier(pro, models.TierPro, 1, "seats count on the team tier only")
	})
}
