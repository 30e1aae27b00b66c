package billing_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// A checkout Inkgraph never created (a Payment Link or pricing table, whose
// client_reference_id and metadata are whatever the URL says) names a victim: neither
// the customer nor the subscription becomes the victim's.
func TestForeignCheckoutLinksNothing(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, withoutStripe())
		victim := e.newUser(t)
		t0 := e.clock.Now().Unix()
		e.mustDeliver(t, subEvent("evt_h1", "customer.subscription.created", t0,
			sub{ID: "sub_att", Customer: "cus_attacker", Status: "active", Price: pricePro, UserID: victim}))
		e.mustDeliver(t, checkoutEvent("evt_h2", t0, victim, "cus_attacker", "sub_att"))

		n, err := db.NewSelect().Model((*models.BillingAccount)(nil)).Where("user_id = ? AND customer_id IS NOT NULL", victim).Count(context.Background())
		require.NoError(t, err)
		require.Zero(t, n, "the victim's account is linked to no customer")
		require.Equal(t, models.TierFree, e.userTier(t, victim), "and gets no one else's subscription")
		s, err := e.svc.Subscription(context.Background(), victim)
		require.NoError(t, err)
		require.Equal(t, models.SubscriptionNone, s.Status)
	})
}
