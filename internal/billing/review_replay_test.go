package billing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/billing"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// A captured delivery signed an hour ago, replayed with a fresh t= added: stripe-go
// verifies the HMAC with the last t=, so the age must be read from that same one, and
// a header with two is refused outright.
func TestReplayWithAnExtraTimestampIsRefused(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, withoutStripe())
		user := e.newUser(t)
		e.linkCustomer(t, user, "cus_rp")
		ev := subEvent("evt_rp1", "customer.subscription.created", e.clock.Now().Unix(), sub{ID: "sub_rp", Customer: "cus_rp", Status: "active", Price: pricePro})
		payload := ev.payload(t)
		old := sign(payload, e.clock.Now().Add(-time.Hour))
		before := e.dump(t)
		for _, header := range []string{
			fmt.Sprintf("t=%d,", e.clock.Now().Unix()) + old,
			fmt.Sprintf(" t=%d,", e.clock.Now().Unix()) + old,
			old,
		} {
			err := e.svc.HandleWebhook(context.Background(), payload, header)
			require.ErrorIs(t, err, billing.ErrWebhookRejected, "header %s", header)
		}
		require.Equal(t, before, e.dump(t))
	})
}
