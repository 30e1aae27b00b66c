package resolvers_test

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/audit"
	"github.com/inkgraph/inkgraph/internal/billing"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
	"github.com/inkgraph/inkgraph/resolvers"
)

// users is the accounts area as far as these tests need it: me from the users
// table, and the tier as testkit's tier fake holds it.
type users struct {
	resolvers.Accounts // unused methods panic
	*testkit.Tiers
	db bun.IDB
}

func newUsers(db bun.IDB) users { return users{Tiers: testkit.NewTiers(), db: db} }

func (u users) User(ctx context.Context, c models.Caller) (*models.User, error) {
	out := new(models.User)
	return out, u.db.NewSelect().Model(out).Where("id = ?", c.UserID).Scan(ctx)
}

func (u users) SetTier(ctx context.Context, userID string, tier models.Tier) (bool, error) {
	old, err := u.TierOf(ctx, userID)
	u.Set(userID, tier)
	return old != tier, err
}

// graphQL serves the schema over r as the user, with the server's error presenter.
func graphQL(t *testing.T, r *resolvers.Resolver, userID string) *client.Client {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	h := handler.New(resolvers.NewSchema(r))
	h.AddTransport(transport.POST{})
	h.AddTransport(transport.Websocket{KeepAlivePingInterval: time.Second})
	h.SetErrorPresenter(resolvers.ErrorPresenter(logger))
	h.SetRecoverFunc(resolvers.RecoverFunc(logger))
	return client.New(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h.ServeHTTP(w, req.WithContext(models.WithCaller(req.Context(), models.Caller{UserID: userID})))
	}))
}

func TestBillingGraph(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testkit.NewDB(t, testkit.SQLite)
	bus := signalingBus{Memory: events.NewMemory(slog.New(slog.DiscardHandler)), subscribed: make(chan struct{}, 1)}
	t.Cleanup(func() { _ = bus.Close() })
	acc := newUsers(db)
	log, err := audit.NewService(audit.Deps{DB: db})
	require.NoError(t, err)
	svc, err := billing.NewService(billing.Config{WebhookSecret: "whsec_graph", Prices: map[models.Tier]string{models.TierPro: "price_pro"}},
		billing.Deps{DB: db, Accounts: acc, Audit: log, Events: bus})
	require.NoError(t, err)
	user := uuid.Must(uuid.NewV7()).String()
	now := time.Now().UTC()
	_, err = db.NewInsert().Model(&models.User{ID: user, Email: user + "@example.com", Tier: models.TierFree, CreatedAt: now, UpdatedAt: now}).Exec(ctx)
	require.NoError(t, err)
	require.NoError(t, log.Record(ctx, user, models.AuditLogin, models.AuditDetail{"method": "password"}))
	require.NoError(t, log.Record(ctx, user, models.AuditProviderKeySaved, models.AuditDetail{"provider": "openai"}))

	c := graphQL(t, &resolvers.Resolver{Accounts: acc, Billing: svc, Audit: log}, user)
	var resp struct {
		Me struct {
			Subscription struct {
				Tier, PlanTier, Status string
				CancelAtPeriodEnd      bool
				GraceUntil             *string
			}
			Entitlements []struct {
				Feature      string
				Allowed      bool
				Limit        *int64
				Reason       string
				RequiredTier *string
			}
			Allowed struct {
				Allowed      bool
				Reason       string
				RequiredTier *string
				Tier         string
				Limit        *int64
			}
			AuditLog struct {
				Edges []struct {
					Cursor string
					Node   struct {
						Kind   string
						Detail []struct{ Key, Value string }
					}
				}
				PageInfo struct {
					EndCursor   *string
					HasNextPage bool
				}
			}
		}
	}
	c.MustPost(`{ me {
		subscription { tier planTier status cancelAtPeriodEnd graceUntil }
		entitlements { feature allowed limit reason requiredTier }
		allowed(feature: AGENTS, amount: 4) { allowed reason requiredTier tier limit }
		auditLog(first: 1) { edges { cursor node { kind detail { key value } } } pageInfo { endCursor hasNextPage } }
	} }`, &resp)
	me := resp.Me
	require.Equal(t, "FREE", me.Subscription.Tier)
	require.Equal(t, "NONE", me.Subscription.Status)
	require.Nil(t, me.Subscription.GraceUntil)
	require.Len(t, me.Entitlements, 6)
	require.Equal(t, "AGENTS", me.Entitlements[0].Feature)
	require.Equal(t, int64(3), *me.Entitlements[0].Limit)
	require.Equal(t, "BACKUP", me.Entitlements[3].Feature)
	require.False(t, me.Entitlements[3].Allowed)
	require.Equal(t, "PRO", *me.Entitlements[3].RequiredTier)
	require.False(t, me.Allowed.Allowed)
	require.Equal(t, "PRO", *me.Allowed.RequiredTier)
	require.Equal(t, "FREE", me.Allowed.Tier)
	require.Len(t, me.AuditLog.Edges, 1)
	require.Equal(t, "PROVIDER_KEY_SAVED", me.AuditLog.Edges[0].Node.Kind)
	require.Equal(t, []struct{ Key, Value string }{{"provider", "openai"}}, me.AuditLog.Edges[0].Node.Detail)
	require.True(t, me.AuditLog.PageInfo.HasNextPage)

	var next struct {
		Me struct {
			AuditLog struct {
				Edges []struct{ Node struct{ Kind string } }
			}
		}
	}
	c.MustPost(`query($after: String) { me { auditLog(first: 5, after: $after) { edges { node { kind } } } } }`, &next,
		client.Var("after", *me.AuditLog.PageInfo.EndCursor))
	require.Len(t, next.Me.AuditLog.Edges, 1)
	require.Equal(t, "LOGIN", next.Me.AuditLog.Edges[0].Node.Kind)

	// Without Stripe, checkout says so in the error's code.
	var out struct{ CreateCheckoutSession struct{ URL string } }
	err = c.Post(`mutation { createCheckoutSession(tier: PRO) { url } }`, &out)
	require.ErrorContains(t, err, `"code":"BILLING_NOT_CONFIGURED"`)

	// billingEvents tells the subscriber of a tier change.
	sub := c.Websocket(`subscription { billingEvents { type tier status cancelAtPeriodEnd at } }`)
	defer func() { require.NoError(t, sub.Close()) }()
	select {
	case <-bus.subscribed:
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription never reached the bus")
	}
	// Inkgraph created the customer at checkout: only such a customer is the user's.
	customer := "cus_graph"
	_, err = db.NewInsert().Model(&models.BillingAccount{UserID: user, CustomerID: &customer, GrantedTier: models.TierFree,
		CreatedAt: now, UpdatedAt: now}).Exec(ctx)
	require.NoError(t, err)
	payload := []byte(`{"id":"evt_graph","object":"event","created":` + strconv.FormatInt(now.Unix(), 10) + `,
		"type":"customer.subscription.created","data":{"object":{"id":"sub_graph","object":"subscription","customer":"cus_graph",
		"status":"active","metadata":{"user_id":"` + user + `"},"items":{"data":[{"quantity":1,"price":{"id":"price_pro"}}]}}}}`)
	header := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_graph", Timestamp: time.Now()}).Header
	require.NoError(t, svc.HandleWebhook(ctx, payload, header))
	var ev struct {
		BillingEvents struct {
			Type, Tier, Status, At string
			CancelAtPeriodEnd      bool
		}
	}
	got := make(chan error, 1)
	go func() { got <- sub.Next(&ev) }()
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("no billing event within 10 s of the webhook")
	}
	require.Equal(t, "TIER_CHANGED", ev.BillingEvents.Type)
	require.Equal(t, "PRO", ev.BillingEvents.Tier)
	require.Equal(t, "ACTIVE", ev.BillingEvents.Status)
}

// signalingBus tells when someone has subscribed, so a test can publish after it.
type signalingBus struct {
	*events.Memory
	subscribed chan struct{}
}

func (b signalingBus) Subscribe(ctx context.Context, topic string) (<-chan []byte, error) {
	ch, err := b.Memory.Subscribe(ctx, topic)
	b.subscribed <- struct{}{}
	return ch, err
}

// Every service is always wired; a server without Stripe has a billing area that
// answers what needs Stripe with BILLING_NOT_CONFIGURED.
func TestBillingGraphWithoutStripe(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	bus := events.NewMemory(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = bus.Close() })
	log, err := audit.NewService(audit.Deps{DB: db})
	require.NoError(t, err)
	acc := newUsers(db)
	svc, err := billing.NewService(billing.Config{}, billing.Deps{DB: db, Accounts: acc, Audit: log, Events: bus})
	require.NoError(t, err)
	c := graphQL(t, &resolvers.Resolver{Accounts: acc, Billing: svc, Audit: log}, "u1")
	var out struct{ CancelSubscription struct{ Status string } }
	err = c.Post(`mutation { cancelSubscription { status } }`, &out)
	require.ErrorContains(t, err, `"code":"BILLING_NOT_CONFIGURED"`)
}
