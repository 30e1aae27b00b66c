package billing_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/billing"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/stripemock"
	"github.com/inkgraph/inkgraph/models"
)

func TestStripeMockFixture(t *testing.T) {
	t.Parallel()
	price, customer := fixtureSubscription(t, stripemock.Start(t).URL)
	require.Equal(t, pricePro, price, "the tests' pro price is the fixture's (see pricePro)")
	require.NotEmpty(t, customer)
}

func TestCheckoutSession(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, withClientIP("203.0.113.7"))
		ctx := context.Background()
		user := e.newUser(t)

		for _, tc := range []struct {
			name  string
			tier  models.Tier
			seats int
			field string
		}{
			{"free is not for sale", models.TierFree, 1, "tier"},
			{"unknown tier", models.Tier("gold"), 1, "tier"},
			{"no seats", models.TierTeam, 0, "seats"},
			{"too many seats", models.TierTeam, 1001, "seats"},
			{"seats for a tier not sold per seat", models.TierPro, 2, "seats"},
		} {
			_, err := e.svc.CreateCheckoutSession(ctx, user, tc.tier, tc.seats)
			require.Equal(t, models.CodeBadUserInput, codeOf(err), tc.name)
			var me *models.Error
			require.ErrorAs(t, err, &me)
			require.Equal(t, tc.field, me.Field, tc.name)
		}
		require.Empty(t, e.rec.Requests(), "nothing reaches Stripe for a refused checkout")

		cs, err := e.svc.CreateCheckoutSession(ctx, user, models.TierPro, 1)
		require.NoError(t, err)
		require.NotEmpty(t, cs.ID)
		require.Contains(t, cs.URL, "https://")

		customers := e.rec.Find(http.MethodPost, "/v1/customers")
		require.Len(t, customers, 1)
		require.Equal(t, user, customers[0].Form.Get("metadata[user_id]"))
		require.Equal(t, "inkgraph-customer-"+user, customers[0].Header.Get("Idempotency-Key"))
		acct := new(models.BillingAccount)
		require.NoError(t, db.NewSelect().Model(acct).Where("user_id = ?", user).Scan(ctx))
		require.NotNil(t, acct.CustomerID)

		sessions := e.rec.Find(http.MethodPost, "/v1/checkout/sessions")
		require.Len(t, sessions, 1)
		f := sessions[0].Form
		for k, v := range map[string]string{
			"mode":                                 "subscription",
			"customer":                             *acct.CustomerID,
			"client_reference_id":                  user,
			"line_items[0][price]":                 pricePro,
			"line_items[0][quantity]":              "1",
			"metadata[user_id]":                    user,
			"subscription_data[metadata][user_id]": user,
			"success_url":                          "https://app.inkgraph.test/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}",
			"cancel_url":                           "https://app.inkgraph.test/billing?checkout=canceled",
		} {
			require.Equal(t, v, f.Get(k), k)
		}

		// The customer is remembered: a second checkout creates none.
		_, err = e.svc.CreateCheckoutSession(ctx, user, models.TierTeam, 5)
		require.NoError(t, err)
		require.Len(t, e.rec.Find(http.MethodPost, "/v1/customers"), 1)
		sessions = e.rec.Find(http.MethodPost, "/v1/checkout/sessions")
		require.Len(t, sessions, 2)
		require.Equal(t, priceTeam, sessions[1].Form.Get("line_items[0][price]"))
		require.Equal(t, "5", sessions[1].Form.Get("line_items[0][quantity]"))
		require.Equal(t, *acct.CustomerID, sessions[1].Form.Get("customer"))

		conn, err := e.audit.AuditLog(ctx, user, 10, "")
		require.NoError(t, err)
		require.Len(t, conn.Edges, 2)
		require.Equal(t, models.AuditCheckoutStarted, conn.Edges[0].Node.Kind)
		require.Equal(t, "team", conn.Edges[0].Node.Detail["tier"])
		require.Equal(t, "203.0.113.7", conn.Edges[0].Node.IP)

		// Once a subscription is live, plans change in the portal.
		e.mustDeliver(t, subEvent("evt_c1", "customer.subscription.created", e.clock.Now().Unix(),
			sub{ID: "sub_c", Customer: *acct.CustomerID, Status: "active", Price: pricePro}))
		_, err = e.svc.CreateCheckoutSession(ctx, user, models.TierPower, 1)
		require.Equal(t, models.CodeConflict, codeOf(err))

		_, err = e.svc.CreateCheckoutSession(ctx, "no-such-user", models.TierPro, 1)
		require.Equal(t, models.CodeNotFound, codeOf(err))
		require.Len(t, e.rec.Find(http.MethodPost, "/v1/customers"), 1, "no customer for a user who does not exist")
	})
}

func TestCheckoutWithoutAPriceForTheTier(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.NewDB(t, testkit.SQLite), func(c *billing.Config, _ *billing.Deps) { delete(c.Prices, models.TierPower) })
	_, err := e.svc.CreateCheckoutSession(context.Background(), e.newUser(t), models.TierPower, 1)
	require.Equal(t, models.CodeBadUserInput, codeOf(err))
	var me *models.Error
	require.ErrorAs(t, err, &me)
	require.Equal(t, "tier", me.Field)
}

func TestConcurrentFirstCheckoutsShareOneCustomer(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db)
		user := e.newUser(t)
		const n = 6
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				_, err := e.svc.CreateCheckoutSession(context.Background(), user, models.TierPro, 1)
				errs <- err
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		acct := new(models.BillingAccount)
		require.NoError(t, db.NewSelect().Model(acct).Where("user_id = ?", user).Scan(context.Background()))
		require.NotNil(t, acct.CustomerID)
		// Stripe gets one idempotency key however many race: it creates one customer
		// and answers every racer with it (stripe-mock, stateless, makes one per
		// request; the first stored is then everyone's).
		for _, req := range e.rec.Find(http.MethodPost, "/v1/customers") {
			require.Equal(t, "inkgraph-customer-"+user, req.Header.Get("Idempotency-Key"))
		}
		sessions := e.rec.Find(http.MethodPost, "/v1/checkout/sessions")
		require.Len(t, sessions, n)
		for _, req := range sessions {
			require.Equal(t, *acct.CustomerID, req.Form.Get("customer"), "every checkout uses the stored customer")
		}
	})
}

func TestBillingPortalSession(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db)
		ctx := context.Background()
		user := e.newUser(t)
		_, err := e.svc.CreateBillingPortalSession(ctx, user)
		require.Equal(t, models.CodeNotFound, codeOf(err), "no customer before the first checkout")

		e.linkCustomer(t, user, "cus_portal")
		ps, err := e.svc.CreateBillingPortalSession(ctx, user)
		require.NoError(t, err)
		require.NotEmpty(t, ps.URL)
		sent := e.rec.Find(http.MethodPost, "/v1/billing_portal/sessions")
		require.Len(t, sent, 1)
		require.Equal(t, "cus_portal", sent[0].Form.Get("customer"))
		require.Equal(t, "https://app.inkgraph.test/billing", sent[0].Form.Get("return_url"))
	})
}

func TestCancelAndResume(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, withClientIP("198.51.100.2"))
		ctx := context.Background()
		_, customer := fixtureSubscription(t, e.stripe.URL)
		user := e.newUser(t)
		_, err := e.svc.CancelSubscription(ctx, user)
		require.Equal(t, models.CodeNotFound, codeOf(err))
		e.linkCustomer(t, user, customer)
		_, err = e.svc.CancelSubscription(ctx, user)
		require.Equal(t, models.CodeNotFound, codeOf(err))
		_, err = e.svc.ResumeSubscription(ctx, user)
		require.Equal(t, models.CodeNotFound, codeOf(err))

		t0 := e.clock.Now().Unix()
		s := sub{ID: "sub_cr", Customer: customer, Status: "active", Price: pricePro, UserID: user, PeriodEnd: t0 + 86400}
		e.mustDeliver(t, subEvent("evt_cr1", "customer.subscription.created", t0, s))
		require.Equal(t, models.TierPro, e.userTier(t, user))

		got, err := e.svc.CancelSubscription(ctx, user)
		require.NoError(t, err)
		sent := e.rec.Find(http.MethodPost, "/v1/subscriptions/sub_cr")
		require.Len(t, sent, 1)
		require.Equal(t, "true", sent[0].Form.Get("cancel_at_period_end"))
		require.True(t, got.CancelAtPeriodEnd, "what Stripe answered is stored at once")
		require.Equal(t, models.SubscriptionActive, got.Status)
		require.Equal(t, models.TierPro, got.Tier, "the tier stays until the period ends")

		// A late event from before the cancellation does not undo it.
		e.mustDeliver(t, subEvent("evt_cr0", "customer.subscription.updated", t0-10, s))
		got, err = e.svc.Subscription(ctx, user)
		require.NoError(t, err)
		require.True(t, got.CancelAtPeriodEnd)

		got, err = e.svc.ResumeSubscription(ctx, user)
		require.NoError(t, err)
		sent = e.rec.Find(http.MethodPost, "/v1/subscriptions/sub_cr")
		require.Len(t, sent, 2)
		require.Equal(t, "false", sent[1].Form.Get("cancel_at_period_end"))
		require.False(t, got.CancelAtPeriodEnd)

		// Stripe's webhook for the same request (stripe-mock answers every request
		// with Request-Id req_123) adds no second audit entry.
		e.mustDeliver(t, stripeEvent{ID: "evt_cr2", Type: "customer.subscription.updated", Created: t0 + 5,
			Object: s.object(), Previous: map[string]any{"cancel_at_period_end": true}, RequestID: "req_123"})
		kinds := auditKinds(t, e.audit, user)
		require.Equal(t, []models.AuditKind{models.AuditSubscriptionResumed, models.AuditSubscriptionCanceled, models.AuditTierChanged}, kinds)
		conn, err := e.audit.AuditLog(ctx, user, 1, "")
		require.NoError(t, err)
		require.Equal(t, "198.51.100.2", conn.Edges[0].Node.IP)
		require.Equal(t, "inkgraph", conn.Edges[0].Node.Detail["source"])

		// A newer event still decides over Stripe's earlier answer.
		s.Cancel = true
		e.mustDeliver(t, subEvent("evt_cr3", "customer.subscription.updated", e.clock.Now().Unix()+100, s))
		got, err = e.svc.Subscription(ctx, user)
		require.NoError(t, err)
		require.True(t, got.CancelAtPeriodEnd)
	})
}

func TestStripeUnavailable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	db := testkit.NewDB(t, testkit.SQLite)
	acc := newAccounts()
	bus := events.NewMemory(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = bus.Close() })
	svc, err := billing.NewService(billing.Config{SecretKey: stripemock.SecretKey, WebhookSecret: webhookSecret, APIBase: closed,
		Prices: map[models.Tier]string{models.TierPro: pricePro}, PublicURL: "https://app.inkgraph.test",
		HTTPClient: &http.Client{Timeout: 5 * time.Second}}, billing.Deps{DB: db, Accounts: acc, Audit: newAudit(t, db, nil), Events: bus})
	require.NoError(t, err)
	e := &env{db: db, clock: testkit.NewClock(time.Time{}), accounts: acc}
	user := e.newUser(t)
	_, err = svc.CreateCheckoutSession(context.Background(), user, models.TierPro, 1)
	require.Equal(t, models.CodeUpstreamUnavailable, codeOf(err))
}

func TestBillingOff(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newEnv(t, db, withoutStripe())
		ctx := context.Background()
		user := e.newUser(t)
		require.False(t, e.svc.Enabled())

		_, err := e.svc.CreateCheckoutSession(ctx, user, models.TierPro, 1)
		require.Equal(t, models.CodeBillingNotConfigured, codeOf(err))
		_, err = e.svc.CreateBillingPortalSession(ctx, user)
		require.Equal(t, models.CodeBillingNotConfigured, codeOf(err))
		_, err = e.svc.CancelSubscription(ctx, user)
		require.Equal(t, models.CodeBillingNotConfigured, codeOf(err))
		_, err = e.svc.ResumeSubscription(ctx, user)
		require.Equal(t, models.CodeBillingNotConfigured, codeOf(err))

		s, err := e.svc.Subscription(ctx, user)
		require.NoError(t, err)
		require.Equal(t, models.SubscriptionNone, s.Status)
		require.Equal(t, models.TierFree, s.Tier)

		ents, err := e.svc.Entitlements(ctx, user)
		require.NoError(t, err)
		require.Len(t, ents, len(models.FeatureKeys()))
		for _, ent := range ents {
			want := models.FeaturesOf(models.TierFree).Allows(models.Feature{Key: ent.Feature})
			require.Equal(t, want, ent.Allowed, ent.Feature)
		}
		d, err := e.svc.Allowed(ctx, user, models.Agents(4))
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, models.TierPro, d.RequiredTier)

		require.NoError(t, e.audit.Record(ctx, user, models.AuditLogin, models.AuditDetail{"method": "password"}))
		_, err = e.svc.ExpireGrace(ctx)
		require.NoError(t, err)
	})
}

func TestNewServiceChecksItsConfiguration(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	bus := events.NewMemory(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = bus.Close() })
	deps := billing.Deps{DB: db, Accounts: newAccounts(), Audit: newAudit(t, db, nil), Events: bus}
	for _, tc := range []struct {
		name string
		cfg  billing.Config
		deps billing.Deps
	}{
		{"no database", billing.Config{}, billing.Deps{Accounts: deps.Accounts, Audit: deps.Audit, Events: bus}},
		{"no audit log", billing.Config{}, billing.Deps{DB: db, Accounts: deps.Accounts, Events: bus}},
		{"negative grace", billing.Config{PastDueGrace: -time.Hour}, deps},
		{"a price for free", billing.Config{Prices: map[models.Tier]string{models.TierFree: "price_x"}}, deps},
		{"one price for two tiers", billing.Config{Prices: map[models.Tier]string{models.TierPro: "price_x", models.TierTeam: "price_x"}}, deps},
		{"a key without a public URL", billing.Config{SecretKey: "sk_test_x"}, deps},
	} {
		_, err := billing.NewService(tc.cfg, tc.deps)
		require.Error(t, err, tc.name)
	}
	_, err := billing.NewService(billing.Config{}, deps)
	require.NoError(t, err, "billing off needs nothing")
}
