package billing_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/billing"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func TestWebhookLifecycle(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, withoutStripe())
		ctx := context.Background()
		user := e.newUser(t)
		t0 := e.clock.Now().Unix()
		periodEnd := t0 + 30*24*3600
		// The subscription carries no user in its metadata and the customer is not
		// linked yet: only checkout.session.completed says whose it is.
		base := sub{ID: "sub_life", Customer: "cus_life", Status: "incomplete", Price: pricePro, PeriodEnd: periodEnd}
		with := func(f func(*sub)) sub { s := base; f(&s); return s }

		for _, step := range []struct {
			name    string
			ev      stripeEvent
			outcome models.EventOutcome
			status  models.SubscriptionStatus // "" when there is no subscription row yet
			tier    models.Tier               // effective, and the account's
			plan    models.Tier
			cancel  bool
			audit   models.AuditKind // the newest audit entry after the step, "" for none new
		}{
			{"created before anyone knows whose", subEvent("evt_l1", "customer.subscription.created", t0, base),
				models.OutcomeUnlinked, "", models.TierFree, "", false, ""},
			{"checkout completed links the customer", checkoutEvent("evt_l2", t0, user, "cus_life", "sub_life"),
				models.OutcomeApplied, models.SubscriptionIncomplete, models.TierFree, models.TierPro, false, ""},
			{"first payment makes it active", subEvent("evt_l3", "customer.subscription.updated", t0+1, with(func(s *sub) { s.Status = "active" })),
				models.OutcomeApplied, models.SubscriptionActive, models.TierPro, models.TierPro, false, models.AuditTierChanged},
			{"invoice paid keeps it active", invoiceEvent("evt_l4", "invoice.paid", t0+1, "sub_life", "cus_life"),
				models.OutcomeApplied, models.SubscriptionActive, models.TierPro, models.TierPro, false, models.AuditTierChanged},
			{"cancel at period end", stripeEvent{ID: "evt_l5", Type: "customer.subscription.updated", Created: t0 + 10,
				Object:   with(func(s *sub) { s.Status, s.Cancel = "active", true }).object(),
				Previous: map[string]any{"cancel_at_period_end": false}},
				models.OutcomeApplied, models.SubscriptionActive, models.TierPro, models.TierPro, true, models.AuditSubscriptionCanceled},
			{"resumed", stripeEvent{ID: "evt_l6", Type: "customer.subscription.updated", Created: t0 + 20,
				Object:   with(func(s *sub) { s.Status = "active" }).object(),
				Previous: map[string]any{"cancel_at_period_end": true}},
				models.OutcomeApplied, models.SubscriptionActive, models.TierPro, models.TierPro, false, models.AuditSubscriptionResumed},
			{"payment failed: past due, tier kept", invoiceEvent("evt_l7", "invoice.payment_failed", t0+30, "sub_life", "cus_life"),
				models.OutcomeApplied, models.SubscriptionPastDue, models.TierPro, models.TierPro, false, models.AuditPaymentFailed},
			{"stripe says past due too", subEvent("evt_l8", "customer.subscription.updated", t0+31, with(func(s *sub) { s.Status = "past_due" })),
				models.OutcomeApplied, models.SubscriptionPastDue, models.TierPro, models.TierPro, false, models.AuditPaymentFailed},
			{"invoice paid clears it", invoiceEvent("evt_l9", "invoice.paid", t0+40, "sub_life", "cus_life"),
				models.OutcomeApplied, models.SubscriptionActive, models.TierPro, models.TierPro, false, models.AuditPaymentFailed},
			{"upgraded to power", subEvent("evt_l10", "customer.subscription.updated", t0+50, with(func(s *sub) { s.Status, s.Price = "active", pricePower })),
				models.OutcomeApplied, models.SubscriptionActive, models.TierPower, models.TierPower, false, models.AuditTierChanged},
			{"deleted", subEvent("evt_l11", "customer.subscription.deleted", t0+60, with(func(s *sub) { s.Status, s.Price = "canceled", pricePower })),
				models.OutcomeApplied, models.SubscriptionCanceled, models.TierFree, models.TierPower, false, models.AuditSubscriptionEnded},
			{"an event type billing does not act on", stripeEvent{ID: "evt_l12", Type: "charge.succeeded", Created: t0 + 70,
				Object: map[string]any{"id": "ch_1", "object": "charge"}},
				models.OutcomeIgnored, models.SubscriptionCanceled, models.TierFree, models.TierPower, false, models.AuditSubscriptionEnded},
		} {
			if step.ev.ID == "evt_l2" {
				// The customer becomes the user's only through Inkgraph (the customer
				// it created for the checkout); the event's client_reference_id is a
				// claim anyone can make with a payment link, never a link.
				e.linkCustomer(t, user, "cus_life")
			}
			e.mustDeliver(t, step.ev)
			rec := new(models.StripeEvent)
			require.NoError(t, db.NewSelect().Model(rec).Where("id = ?", step.ev.ID).Scan(ctx), step.name)
			require.Equal(t, step.outcome, rec.Outcome, step.name)
			require.Equal(t, step.tier, e.userTier(t, user), step.name)

			s, err := e.svc.Subscription(ctx, user)
			require.NoError(t, err)
			if step.status == "" {
				require.Equal(t, models.SubscriptionNone, s.Status, step.name)
			} else {
				require.Equal(t, step.status, s.Status, step.name)
				require.Equal(t, step.plan, s.PlanTier, step.name)
				require.Equal(t, step.cancel, s.CancelAtPeriodEnd, step.name)
				require.Equal(t, time.Unix(periodEnd, 0).UTC(), *s.CurrentPeriodEnd, step.name)
				require.Equal(t, "cus_life", s.CustomerID, step.name)
			}
			require.Equal(t, step.tier, s.Tier, step.name)
			kinds := auditKinds(t, e.audit, user)
			if step.audit == "" {
				require.Empty(t, kinds, step.name)
			} else {
				require.Equal(t, step.audit, kinds[0], step.name)
			}
			if step.status == models.SubscriptionPastDue {
				require.Equal(t, time.Unix(t0+30, 0).UTC(), *s.PastDueSince, "grace counts from the first failure: %s", step.name)
				require.Equal(t, time.Unix(t0+30, 0).UTC().Add(grace), *s.GraceUntil, step.name)
			} else {
				require.Nil(t, s.GraceUntil, step.name)
			}
		}
		require.Equal(t, []models.AuditKind{
			models.AuditSubscriptionEnded, models.AuditTierChanged, models.AuditTierChanged, models.AuditPaymentFailed,
			models.AuditSubscriptionResumed, models.AuditSubscriptionCanceled, models.AuditTierChanged,
		}, auditKinds(t, e.audit, user))
	})
}

func TestWebhookRefusalsWriteNothing(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, withoutStripe())
		user := e.newUser(t)
		e.linkCustomer(t, user, "cus_ref")
		t0 := e.clock.Now().Unix()
		e.mustDeliver(t, subEvent("evt_r0", "customer.subscription.created", t0, sub{ID: "sub_ref", Customer: "cus_ref", Status: "active", Price: pricePro}))
		before := e.dump(t)
		require.NotEmpty(t, before["subscriptions"])

		ev := subEvent("evt_r1", "customer.subscription.deleted", t0+10, sub{ID: "sub_ref", Customer: "cus_ref", Status: "canceled", Price: pricePro})
		payload := ev.payload(t)
		now := e.clock.Now()
		otherSecret := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_other", Timestamp: now}).Header
		tampered := append([]byte(nil), payload...)
		tampered[len(tampered)-2] = ' '
		notJSON := []byte("this is not json")
		noID := []byte(`{"object":"event","type":"customer.subscription.deleted","data":{"object":{}}}`)

		for _, tc := range []struct {
			name    string
			payload []byte
			header  string
			want    error
		}{
			{"no signature", payload, "", billing.ErrBadSignature},
			{"garbage header", payload, "nonsense", billing.ErrBadSignature},
			{"another secret", payload, otherSecret, billing.ErrBadSignature},
			{"body changed after signing", tampered, sign(payload, now), billing.ErrBadSignature},
			{"signed 5 minutes and 1 second ago", payload, sign(payload, now.Add(-5*time.Minute-time.Second)), billing.ErrStaleWebhook},
			{"signed an hour ago", payload, sign(payload, now.Add(-time.Hour)), billing.ErrStaleWebhook},
			{"signed but not JSON", notJSON, sign(notJSON, now), billing.ErrMalformedWebhook},
			{"signed but not an event", noID, sign(noID, now), billing.ErrMalformedWebhook},
		} {
			err := e.svc.HandleWebhook(context.Background(), tc.payload, tc.header)
			require.ErrorIs(t, err, billing.ErrWebhookRejected, tc.name)
			require.ErrorIs(t, err, tc.want, tc.name)
			require.Equal(t, before, e.dump(t), "%s: nothing written", tc.name)
		}

		// A signature exactly 5 minutes old is still within the tolerance.
		require.NoError(t, e.svc.HandleWebhook(context.Background(), payload, sign(payload, now.Add(-5*time.Minute))))
		require.Equal(t, models.TierFree, e.userTier(t, user))
	})
}

func TestWebhookReplayChangesNothing(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, withoutStripe())
		user := e.newUser(t)
		e.linkCustomer(t, user, "cus_rep")
		t0 := e.clock.Now().Unix()
		s := sub{ID: "sub_rep", Customer: "cus_rep", Status: "active", Price: pricePro}
		for _, ev := range []stripeEvent{
			subEvent("evt_p1", "customer.subscription.created", t0, s),
			invoiceEvent("evt_p2", "invoice.payment_failed", t0+10, "sub_rep", "cus_rep"),
			checkoutEvent("evt_p3", t0, user, "cus_rep", "sub_rep"),
			{ID: "evt_p4", Type: "customer.created", Created: t0, Object: map[string]any{"id": "cus_rep", "object": "customer"}},
		} {
			payload := ev.payload(t)
			header := sign(payload, e.clock.Now())
			require.NoError(t, e.svc.HandleWebhook(context.Background(), payload, header))
			after := e.dump(t)

			e.clock.Add(time.Minute)
			// The same bytes again (Stripe's retry, or a replay within the tolerance)…
			require.NoError(t, e.svc.HandleWebhook(context.Background(), payload, header), ev.ID)
			require.Equal(t, after, e.dump(t), "%s: a replay writes nothing", ev.ID)
			// …signed anew (a redelivery)…
			require.NoError(t, e.deliver(t, ev), ev.ID)
			require.Equal(t, after, e.dump(t), "%s: a redelivery writes nothing", ev.ID)
			// …and the old signature once it is stale.
			e.clock.Add(5 * time.Minute)
			require.ErrorIs(t, e.svc.HandleWebhook(context.Background(), payload, header), billing.ErrStaleWebhook)
			require.Equal(t, after, e.dump(t), ev.ID)
		}
		require.Equal(t, 1, count(t, db, "audit_log", "kind = ?", models.AuditPaymentFailed))
	})
}

func TestConcurrentDuplicateDeliveriesApplyOnce(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, withoutStripe())
		user := e.newUser(t)
		e.linkCustomer(t, user, "cus_dup")
		t0 := e.clock.Now().Unix()
		evs := []stripeEvent{
			subEvent("evt_d1", "customer.subscription.created", t0, sub{ID: "sub_dup", Customer: "cus_dup", Status: "active", Price: pricePro}),
			invoiceEvent("evt_d2", "invoice.payment_failed", t0+1, "sub_dup", "cus_dup"),
			subEvent("evt_d3", "customer.subscription.updated", t0+2, sub{ID: "sub_dup", Customer: "cus_dup", Status: "past_due", Price: pricePower}),
		}
		const copies = 8
		var wg sync.WaitGroup
		errs := make(chan error, copies*len(evs))
		start := make(chan struct{})
		for _, ev := range evs {
			payload := ev.payload(t)
			header := sign(payload, e.clock.Now())
			for range copies {
				wg.Go(func() {
					<-start
					errs <- e.svc.HandleWebhook(context.Background(), payload, header)
				})
			}
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, len(evs), count(t, db, "stripe_events", ""))
		require.Equal(t, len(evs), count(t, db, "subscription_changes", ""))
		require.Equal(t, 1, count(t, db, "audit_log", "kind = ?", models.AuditPaymentFailed))
		s, err := e.svc.Subscription(context.Background(), user)
		require.NoError(t, err)
		require.Equal(t, models.SubscriptionPastDue, s.Status)
		require.Equal(t, models.TierPower, s.Tier)
		require.Equal(t, time.Unix(t0+1, 0).UTC(), *s.PastDueSince)
		require.Equal(t, models.TierPower, e.userTier(t, user))
	})
}

func TestSameSecondDisagreementAsksStripe(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db)
		price, customer := fixtureSubscription(t, e.stripe.URL)
		require.Equal(t, pricePro, price)
		user := e.newUser(t)
		e.linkCustomer(t, user, customer)
		t0 := e.clock.Now().Unix()
		e.mustDeliver(t, subEvent("evt_t1", "customer.subscription.created", t0, sub{ID: "sub_tie", Customer: customer, Status: "active", Price: pricePro}))
		require.Empty(t, e.rec.Find(http.MethodGet, "/v1/subscriptions/sub_tie"), "no disagreement, no question")

		// A cancel and a resume within one second: their order is unknowable from
		// the events, so the service asks Stripe, whose fixture says cancelled.
		e.mustDeliver(t, subEvent("evt_t2", "customer.subscription.updated", t0+5, sub{ID: "sub_tie", Customer: customer, Status: "active", Price: pricePro, Cancel: true}))
		e.mustDeliver(t, subEvent("evt_t3", "customer.subscription.updated", t0+5, sub{ID: "sub_tie", Customer: customer, Status: "active", Price: pricePro, Cancel: false}))
		require.Len(t, e.rec.Find(http.MethodGet, "/v1/subscriptions/sub_tie"), 1)
		s, err := e.svc.Subscription(context.Background(), user)
		require.NoError(t, err)
		require.True(t, s.CancelAtPeriodEnd, "Stripe's answer settles the tie")
		require.Equal(t, models.TierPro, s.Tier)

		// A later event still overrides the answer, and needs no question.
		e.mustDeliver(t, subEvent("evt_t4", "customer.subscription.updated", t0+6, sub{ID: "sub_tie", Customer: customer, Status: "active", Price: pricePower}))
		s, err = e.svc.Subscription(context.Background(), user)
		require.NoError(t, err)
		require.False(t, s.CancelAtPeriodEnd)
		require.Equal(t, models.TierPower, s.Tier)
		require.Len(t, e.rec.Find(http.MethodGet, "/v1/subscriptions/sub_tie"), 1)
	})
}

func TestSameSecondDisagreementWithoutStripeAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.NewDB(t, testkit.SQLite), withoutStripe())
	user := e.newUser(t)
	e.linkCustomer(t, user, "cus_tie")
	t0 := e.clock.Now().Unix()
	e.mustDeliver(t, subEvent("evt_n1", "customer.subscription.updated", t0, sub{ID: "sub_tie", Customer: "cus_tie", Status: "active", Price: pricePro, Cancel: true}))
	e.mustDeliver(t, subEvent("evt_n2", "customer.subscription.updated", t0, sub{ID: "sub_tie", Customer: "cus_tie", Status: "active", Price: pricePro}))
	s, err := e.svc.Subscription(context.Background(), user)
	require.NoError(t, err)
	require.False(t, s.CancelAtPeriodEnd, "without Stripe's API the later delivery stands")

	// Ranks order what Stripe's lifecycle does order: within one second an
	// incomplete subscription becomes active, and a cancelled one stays cancelled.
	e.mustDeliver(t, subEvent("evt_n3", "customer.subscription.deleted", t0+1, sub{ID: "sub_tie", Customer: "cus_tie", Status: "canceled", Price: pricePro}))
	e.mustDeliver(t, subEvent("evt_n4", "customer.subscription.updated", t0+1, sub{ID: "sub_tie", Customer: "cus_tie", Status: "active", Price: pricePro}))
	s, err = e.svc.Subscription(context.Background(), user)
	require.NoError(t, err)
	require.Equal(t, models.SubscriptionCanceled, s.Status)
	require.Equal(t, models.TierFree, e.userTier(t, user))
}

func TestFailedTierUpdateIsRetriedByStripe(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, withoutStripe())
		user := e.newUser(t)
		e.linkCustomer(t, user, "cus_fail")
		ev := subEvent("evt_f1", "customer.subscription.created", e.clock.Now().Unix(), sub{ID: "sub_fail", Customer: "cus_fail", Status: "active", Price: pricePro})
		e.accounts.failSets.Store(1)
		err := e.deliver(t, ev)
		require.Error(t, err)
		require.False(t, errors.Is(err, billing.ErrWebhookRejected), "a failure worth retrying: 500, not 400")
		require.Equal(t, models.TierFree, e.userTier(t, user))

		e.mustDeliver(t, ev) // Stripe's retry
		require.Equal(t, models.TierPro, e.userTier(t, user))
		require.Equal(t, 1, count(t, db, "audit_log", "kind = ?", models.AuditTierChanged))
	})
}

func TestWebhooksNeedASecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.NewDB(t, testkit.SQLite), withoutStripe(), func(c *billing.Config, _ *billing.Deps) { c.WebhookSecret = "" })
	payload := subEvent("evt_s", "customer.subscription.created", 1, sub{ID: "sub_s", Customer: "cus_s", Status: "active", Price: pricePro}).payload(t)
	err := e.svc.HandleWebhook(context.Background(), payload, sign(payload, e.clock.Now()))
	require.ErrorIs(t, err, billing.ErrWebhooksNotEnabled)
	require.ErrorIs(t, err, billing.ErrWebhookRejected)
}

func TestBillingEventsTellTheSubscriber(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.NewDB(t, testkit.SQLite), withoutStripe())
	user, other := e.newUser(t), e.newUser(t)
	e.linkCustomer(t, user, "cus_ev")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := e.svc.BillingEvents(ctx, user)
	require.NoError(t, err)
	otherCh, err := e.svc.BillingEvents(ctx, other)
	require.NoError(t, err)

	t0 := e.clock.Now().Unix()
	e.mustDeliver(t, subEvent("evt_e1", "customer.subscription.created", t0, sub{ID: "sub_ev", Customer: "cus_ev", Status: "active", Price: pricePro}))
	got := <-ch
	require.Equal(t, models.BillingTierChanged, got.Type)
	require.Equal(t, models.TierPro, got.Tier)
	require.Equal(t, models.SubscriptionActive, got.Status)

	e.mustDeliver(t, subEvent("evt_e2", "customer.subscription.updated", t0+1, sub{ID: "sub_ev", Customer: "cus_ev", Status: "active", Price: pricePro, Cancel: true}))
	got = <-ch
	require.Equal(t, models.BillingSubscriptionUpdated, got.Type)
	require.True(t, got.CancelAtPeriodEnd)

	select {
	case e := <-otherCh:
		t.Fatalf("another user's subscriber got %+v", e)
	default:
	}
	cancel()
	for range ch {
	}
}
